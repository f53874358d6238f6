"""Atomic writes of binary files (PDF, PNG) and text: readers see the old file or the new one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from myelonav.errors import StoreError


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StoreError(f"cannot write: {exc.strerror}", location=str(p)) from None
    return p


__all__ = ["write_bytes_atomic"]
