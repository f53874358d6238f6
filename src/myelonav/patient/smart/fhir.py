"""Read the patient's US Core resources over FHIR REST: bearer token, paging, 429, expiry."""

from __future__ import annotations

import email.utils
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx

from myelonav.errors import ImportError_
from myelonav.patient.smart.oauth import Token, check_url

MAX_PAGES = 200
MAX_RESOURCES = 20_000
MAX_RETRY_AFTER = 60.0
MAX_TRIES = 4
MAX_RESPONSE_BYTES = 32 * 1024 * 1024

# (resource type, extra search parameters); a type the server does not support is skipped
SEARCHES: tuple[tuple[str, dict[str, str]], ...] = (
    ("Condition", {}),
    ("MedicationRequest", {"_include": "MedicationRequest:medication"}),
    ("MedicationStatement", {}),
    ("MedicationAdministration", {}),
    ("Procedure", {}),
    ("Observation", {"category": "laboratory"}),
    ("Observation", {"category": "vital-signs"}),
    ("Observation", {}),  # the rest: ECOG, FISH, CRS grade, antigen status
)


def retry_after_seconds(value: str | None, now: float | None = None) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), bounded."""
    if not value:
        return 1.0
    value = value.strip()
    if value.isdigit():
        return min(float(value[:6]), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return 1.0
    return max(0.0, min(when - (now if now is not None else time.time()), MAX_RETRY_AFTER))


class FhirReader:
    """GETs against the patient's FHIR server with the current access token.

    ``renew`` gives a new token when the current one has expired (refresh, else sign in
    again); it is asked at most once per request.
    """

    def __init__(
        self,
        client: httpx.Client,
        base: str,
        token: Token,
        renew: Callable[[Token], Token],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.base = check_url(base.rstrip("/"), "FHIR base URL")
        self.token = token
        self.renew = renew
        self.sleep = sleep
        self.retries = 0
        self.renewals = 0
        self.unsupported: list[str] = []

    def _renew(self) -> None:
        self.token = self.renew(self.token)
        self.renewals += 1

    def _fetch(
        self, url: str, params: dict[str, str] | None, accept: str, max_bytes: int
    ) -> httpx.Response:
        """One GET whose body is read only up to ``max_bytes``."""
        headers = {"Authorization": f"Bearer {self.token.access_token}", "Accept": accept}
        with self.client.stream("GET", url, params=params, headers=headers) as streamed:
            declared = streamed.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ImportError_(
                    f"the portal's answer is larger than {_size(max_bytes)}",
                    location=_show(url),
                )
            body = bytearray()
            for chunk in streamed.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise ImportError_(
                        f"the portal's answer is larger than {_size(max_bytes)}",
                        location=_show(url),
                    )
            return httpx.Response(
                streamed.status_code,
                headers=streamed.headers,
                content=bytes(body),
                request=streamed.request,
            )

    def get(
        self,
        url: str,
        params: dict[str, str] | None = None,
        *,
        accept: str = "application/fhir+json",
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> httpx.Response:
        if not url.startswith(self.base + "/"):
            raise ImportError_("a paging link points outside the FHIR server", location=self.base)
        renewed = False
        for _ in range(MAX_TRIES):
            if self.token.expired(margin=5.0) and not renewed:
                self._renew()
                renewed = True
            try:
                response = self._fetch(url, params, accept, max_bytes)
            except httpx.HTTPError as exc:
                raise ImportError_(
                    f"cannot reach the FHIR server: {type(exc).__name__}", location=_show(url)
                ) from None
            if response.status_code == 401 and not renewed:
                self._renew()
                renewed = True
                continue
            if response.status_code in (429, 503):
                self.retries += 1
                self.sleep(retry_after_seconds(response.headers.get("Retry-After")))
                continue
            return response
        if response.status_code == 429:
            raise ImportError_(
                "the portal is busy and asked us to slow down (HTTP 429); nothing was saved. "
                "Try again in a few minutes",
                location=_show(url),
            )
        raise ImportError_(
            f"the FHIR server kept answering HTTP {response.status_code}", location=_show(url)
        )

    def search(self, resource_type: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every resource of a search, following ``Bundle.link[next]``; [] when unsupported."""
        url: str | None = f"{self.base}/{resource_type}"
        query: dict[str, str] | None = params
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if url is None:
                return found
            response = self.get(url, query)
            if response.status_code in (400, 403, 404, 405, 501) and not found:
                # this server does not offer that search (or that scope): say so, go on
                self.unsupported.append(f"{resource_type} (HTTP {response.status_code})")
                return []
            bundle = _json(response, url)
            if bundle.get("resourceType") != "Bundle":
                raise ImportError_("a search did not return a Bundle", location=_show(url))
            for entry in bundle.get("entry") or []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(resource, dict):
                    found.append(resource)
            if len(found) > MAX_RESOURCES:
                raise ImportError_(
                    f"more than {MAX_RESOURCES} resources; refused", location=_show(url)
                )
            url, query = _next_link(bundle), None
        raise ImportError_(f"more than {MAX_PAGES} pages; refused", location=self.base)

    def read(self, resource_type: str, rid: str) -> dict[str, Any]:
        quoted = urllib.parse.quote(rid, safe="")
        url = f"{self.base}/{resource_type}/{quoted}"
        response = self.get(url)
        return _json(response, url)


def fetch_documents(reader: FhirReader, patient_id: str) -> list[dict[str, Any]]:
    """The patient's DocumentReferences ([] when the portal does not offer them)."""
    return reader.search("DocumentReference", {"patient": patient_id})


def fetch_bundle(reader: FhirReader, patient_id: str) -> dict[str, Any]:
    """The patient's resources as one collection Bundle, duplicates across searches removed."""
    patient = reader.read("Patient", patient_id)
    if patient.get("resourceType") != "Patient":
        raise ImportError_("the shared patient could not be read", location=reader.base)
    resources = [patient]
    seen = {("Patient", str(patient.get("id")))}
    for resource_type, extra in SEARCHES:
        for resource in reader.search(resource_type, {"patient": patient_id, **extra}):
            key = (str(resource.get("resourceType")), str(resource.get("id")))
            if key in seen:
                continue
            seen.add(key)
            resources.append(resource)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{reader.base}/{r.get('resourceType')}/{r.get('id')}", "resource": r}
            for r in resources
        ],
    }


def _next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) else None
    return None


def _json(response: httpx.Response, url: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise ImportError_(
            f"the FHIR server answered HTTP {response.status_code}", location=_show(url)
        )
    try:
        data = response.json()
    except ValueError:
        raise ImportError_(
            "the FHIR server did not answer with JSON", location=_show(url)
        ) from None
    if not isinstance(data, dict):
        raise ImportError_("the FHIR server answered with a non-object", location=_show(url))
    return data


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


def _show(url: str) -> str:
    """A URL without its query (which may hold identifiers)."""
    return urllib.parse.urlsplit(url)._replace(query="", fragment="").geturl()


__all__ = [
    "MAX_RESPONSE_BYTES",
    "SEARCHES",
    "FhirReader",
    "fetch_bundle",
    "fetch_documents",
    "retry_after_seconds",
]
