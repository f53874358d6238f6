"""SMART on FHIR patient access: sign in at the patient's portal and import their record.

``connect`` runs the SMART App Launch standalone flow (discovery, authorization code with PKCE
S256 through a 127.0.0.1 redirect, token exchange, refresh), reads the patient's US Core
resources with paging, and imports them with ``fhir_import.import_bundle``. C-CDA documents
behind DocumentReference join the import (``documents``); other documents are listed.
``launch`` holds the same flow for the web app, whose redirect is its own callback URL.
A confidential client (a client secret configured) authenticates at the token endpoint as the
portal's SMART configuration allows (``oauth.token_post``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from myelonav.errors import ImportError_
from myelonav.patient.fhir_import import ImportReport
from myelonav.patient.smart.documents import (
    PortalDocuments,
    import_with_documents,
    read_documents,
)
from myelonav.patient.smart.fhir import FhirReader, fetch_bundle, fetch_documents
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
    client_secret: str | None = None,
) -> ConnectResult:
    """Sign in at ``iss`` (the FHIR base URL), read the shared patient and import them."""
    with httpx.Client(timeout=http_timeout, follow_redirects=False) as client:
        config = discover(client, iss)
        config.auth_method(client_secret)  # refuse before the sign-in, not after

        def sign_in() -> Token:
            return authorize(
                client,
                config,
                client_id=client_id,
                open_browser=open_browser,
                port=port,
                timeout=timeout,
                client_secret=client_secret,
            )

        token = sign_in()
        patient_id = token.patient
        if patient_id is None:  # exchange_code guarantees it; kept for the type checker
            raise ImportError_("no patient shared", location=config.issuer)

        def renew(current: Token) -> Token:
            fresh = refresh(client, config, current, client_id, client_secret) or sign_in()
            if fresh.patient not in (None, patient_id):
                raise ImportError_(
                    "the portal switched to another patient on sign-in; refused",
                    location=config.issuer,
                )
            return fresh

        reader = FhirReader(
            client, config.issuer, token, renew, **({"sleep": sleep} if sleep else {})
        )
        bundle, documents = read_patient(reader, patient_id)
    return imported(reader, bundle, documents, source=config.issuer, as_of=as_of,
                    record_id=record_id)


def imported(
    reader: FhirReader,
    bundle: dict[str, Any],
    documents: PortalDocuments,
    *,
    source: str,
    as_of: dt.date | None,
    record_id: str | None = None,
) -> ConnectResult:
    """Import what ``reader`` read (the one importer), with what the reading took."""
    report = import_with_documents(
        bundle, documents, source=source, as_of=as_of, record_id=record_id
    )
    return ConnectResult(
        report=report,
        resources_read=len(bundle["entry"]),
        retries=reader.retries,
        renewals=reader.renewals,
        unsupported=list(reader.unsupported),
    )


def read_patient(reader: FhirReader, patient_id: str) -> tuple[dict[str, Any], PortalDocuments]:
    """The patient's resources (one Bundle) and their documents, read with ``reader``."""
    bundle = fetch_bundle(reader, patient_id)
    patient = bundle["entry"][0]["resource"]
    documents = read_documents(reader, fetch_documents(reader, patient_id), patient)
    return bundle, documents


__all__ = ["DEFAULT_CLIENT_ID", "ConnectResult", "connect", "imported", "read_patient"]
