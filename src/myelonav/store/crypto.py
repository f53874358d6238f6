"""Profile contents at rest: AES-256-GCM per record, the record id as associated data.

AES-GCM (from ``cryptography``) rather than Fernet: Fernet is AES-128-CBC + HMAC-SHA256
with base64 on top (a third bigger on disk, two passes); AES-GCM is one authenticated
pass. Binding the row id as associated data means a ciphertext copied onto another row
does not decrypt. A stored value is ``aesgcm1:`` + urlsafe base64 of nonce (12 bytes) +
ciphertext-with-tag; rows written before a key was set stay plain JSON and are read as such.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from myelonav.errors import StoreError

PREFIX = "aesgcm1:"
KEY_BYTES = 32
NONCE_BYTES = 12


def new_key() -> str:
    """A fresh key, urlsafe base64 (what ``MYELONAV_DATA_KEY`` holds)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_key(text: str, location: str = "MYELONAV_DATA_KEY") -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise StoreError("the data key is not urlsafe base64", location=location) from None
    if len(key) != KEY_BYTES:
        raise StoreError(f"the data key must be {KEY_BYTES} bytes (got {len(key)})",
                         location=location)
    return key


def key_from_file(path: Path) -> bytes:
    """Read the key kept in ``path``, creating it (0600, never overwritten) on first use."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_key(path.read_text("ascii"), location=str(path))
    except OSError as exc:
        raise StoreError(f"cannot create the data key: {exc.strerror}",
                         location=str(path)) from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(new_key())
        fh.flush()
        os.fsync(fh.fileno())
    return parse_key(path.read_text("ascii"), location=str(path))


class RecordCipher:
    """Seal and open one record's JSON with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise StoreError(f"the data key must be {KEY_BYTES} bytes", location="data_key")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, record_id: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), record_id.encode("ascii"))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, record_id: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before encryption was turned on
        try:
            blob = base64.urlsafe_b64decode(stored[len(PREFIX):].encode("ascii"))
            plain = self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:],
                                       record_id.encode("ascii"))
        except (InvalidTag, binascii.Error, ValueError):
            raise StoreError("stored profile cannot be decrypted with this key",
                             location=f"saved_profiles/{record_id}") from None
        return plain.decode("utf-8")


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


__all__ = ["KEY_BYTES", "PREFIX", "RecordCipher", "is_sealed", "key_from_file", "new_key",
           "parse_key"]
