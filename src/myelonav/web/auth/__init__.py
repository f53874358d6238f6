"""Who is asking: the local user, or a clinic account behind a session cookie."""

from myelonav.web.auth.principal import LOCAL, Principal, can

__all__ = ["LOCAL", "Principal", "can"]
