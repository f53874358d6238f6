"""The packet's one personal choice: whether the patient's name is printed on it.

Off by default (the record holds no name); a name typed here is kept with the profile's
preferences (sealed at rest like the rest of the record) and printed under the packet's
title. Saving an empty name takes it off again.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from myelonav.errors import InputError
from myelonav.web.deps import ProfileId, Store, require_profile

NAME_MAX = 120


def packet_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.post("/p/{profile_id}/packet-name")
    async def packet_name(
        request: Request, store: Store, profile_id: ProfileId
    ) -> RedirectResponse:
        require_profile(store, profile_id)
        form = await request.form()
        raw = form.get("name_on_packet", "")
        name = " ".join(raw.split()) if isinstance(raw, str) else ""
        if len(name) > NAME_MAX:
            raise InputError(
                f"a name of at most {NAME_MAX} characters, or leave it empty",
                location="name_on_packet",
            )
        if name and not name.isprintable():
            raise InputError("letters, spaces and punctuation only", location="name_on_packet")
        store.update_preferences(profile_id, {"name_on_packet": name or None})
        return RedirectResponse(f"/p/{profile_id}/questions#packet", status_code=303)

    return router


__all__ = ["NAME_MAX", "packet_router"]
