"""CSRF tokens for clinic sessions: HMAC of the session token under the secret key.

Stateless (nothing stored) and bound to the session, so a token from another session, or
from before a login, is worthless. Forms carry it as ``csrf_token``; API calls as the
``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "x-csrf-token"
FIELD = "csrf_token"


def csrf_token(secret: str, session_token: str) -> str:
    return hmac.new(secret.encode("utf-8"), b"csrf:" + session_token.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def csrf_ok(secret: str, session_token: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(csrf_token(secret, session_token), given)


__all__ = ["FIELD", "HEADER", "csrf_ok", "csrf_token"]
