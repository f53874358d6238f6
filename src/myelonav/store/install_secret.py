"""The per-install secret: bulk export and delete-all need it in local mode.

Created once (0600, never overwritten) in the home folder. A web page on another site
cannot read it, so it cannot make the browser dump or erase every profile; a person on the
computer reads it with ``myelonav users install-secret``.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from myelonav.errors import StoreError

HEADER = "X-Myelonav-Install-Secret"


def install_secret(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text("ascii").strip()
    except OSError as exc:
        raise StoreError(f"cannot create the install secret: {exc.strerror}",
                         location=str(path)) from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(32))
        fh.flush()
        os.fsync(fh.fileno())
    return path.read_text("ascii").strip()


def matches(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def remove_stale_temps(folder: Path) -> int:
    """Delete ``.NAME.*.tmp`` files an interrupted atomic write left behind; return how many."""
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if name.startswith(".") and name.endswith(".tmp") and name.count(".") >= 3:
            try:
                if entry.is_file() and not entry.is_symlink():
                    entry.unlink()
                    removed += 1
            except OSError:
                pass
    return removed


__all__ = ["HEADER", "install_secret", "matches", "remove_stale_temps"]
