"""SMART on FHIR patient access: sign in at the patient's portal and import their record.

``connect`` runs the SMART App Launch standalone flow (discovery, authorization code with PKCE
S256 through a 127.0.0.1 redirect, token exchange, refresh), reads the patient's US Core
resources with paging, and imports them with ``fhir_import.import_bundle``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from myelonav.errors import ImportError_
from myelonav.patient.fhir_import import ImportReport, import_bundle
from myelonav.patient.smart.fhir import FhirReader, fetch_bundle
from myelonav.patient.smart.oauth import Token, authorize, discover, refresh

DEFAULT_CLIENT_ID = "myelonav"


@dataclass
class ConnectResult:
    report: ImportReport
    resources_read: int
    retries: int
    renewals: int
    unsupported: list[str] = field(default_factory=list)


def connect(
    iss: str,
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    open_browser: Callable[[str], object],
    as_of: dt.date | None = None,
    record_id: str | None = None,
    port: int = 0,
    timeout: float = 300.0,
    http_timeout: float = 30.0,
    sleep: Callable[[float], None] | None = None,
) -> ConnectResult:
    """Sign in at ``iss`` (the FHIR base URL), read the shared patient and import them."""
    with httpx.Client(timeout=http_timeout, follow_redirects=False) as client:
        config = discover(client, iss)

        def sign_in() -> Token:
            return authorize(
                client,
                config,
                client_id=client_id,
                open_browser=open_browser,
                port=port,
                timeout=timeout,
            )

        token = sign_in()
        patient_id = token.patient
        if patient_id is None:  # exchange_code guarantees it; kept for the type checker
            raise ImportError_("no patient shared", location=config.issuer)

        def renew(current: Token) -> Token:
            fresh = refresh(client, config, current, client_id) or sign_in()
            if fresh.patient not in (None, patient_id):
                raise ImportError_(
                    "the portal switched to another patient on sign-in; refused",
                    location=config.issuer,
                )
            return fresh

        reader = FhirReader(
            client, config.issuer, token, renew, **({"sleep": sleep} if sleep else {})
        )
        bundle = fetch_bundle(reader, patient_id)
    report = import_bundle(bundle, source=config.issuer, as_of=as_of, record_id=record_id)
    return ConnectResult(
        report=report,
        resources_read=len(bundle["entry"]),
        retries=reader.retries,
        renewals=reader.renewals,
        unsupported=list(reader.unsupported),
    )


__all__ = ["DEFAULT_CLIENT_ID", "ConnectResult", "connect"]
