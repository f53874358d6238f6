"""FhirReader rules that the portal fixture does not reach: foreign links, endless 429s."""

from __future__ import annotations

import time

import httpx
import pytest

from myelonav.errors import ImportError_
from myelonav.patient.smart.fhir import MAX_TRIES, FhirReader
from myelonav.patient.smart.oauth import Token

BASE = "https://portal.test/fhir"


def _reader(handler: httpx.MockTransport, slept: list[float]) -> FhirReader:
    token = Token(access_token="t", expires_at=time.time() + 3600)
    return FhirReader(
        httpx.Client(transport=handler),
        BASE,
        token,
        renew=lambda current: current,
        sleep=slept.append,
    )


def test_paging_link_to_another_host_is_refused() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        bundle = {
            "resourceType": "Bundle",
            "entry": [{"resource": {"resourceType": "Condition", "id": "1"}}],
            "link": [{"relation": "next", "url": "https://elsewhere.test/fhir/page2"}],
        }
        return httpx.Response(200, json=bundle)

    reader = _reader(httpx.MockTransport(answer), [])
    with pytest.raises(ImportError_, match="outside the FHIR server"):
        reader.search("Condition", {"patient": "p"})


def test_endless_429_gives_up_after_bounded_waits() -> None:
    slept: list[float] = []
    reader = _reader(
        httpx.MockTransport(lambda request: httpx.Response(429, headers={"Retry-After": "2"})),
        slept,
    )
    with pytest.raises(ImportError_, match=r"busy.*\(HTTP 429\).*Try again in a few minutes"):
        reader.search("Condition", {"patient": "p"})
    assert slept == [2.0] * MAX_TRIES


def test_bearer_token_is_sent_and_query_is_not_in_errors() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(500)

    reader = _reader(httpx.MockTransport(answer), [])
    with pytest.raises(ImportError_) as caught:
        reader.search("Observation", {"patient": "secret-id"})
    assert seen == ["Bearer t"]
    assert "secret-id" not in str(caught.value)


def test_scopes_follow_the_servers_smart_version() -> None:
    from myelonav.patient.smart.oauth import SmartConfiguration

    v1 = SmartConfiguration(BASE, f"{BASE}/auth", f"{BASE}/token")
    v2 = SmartConfiguration(
        BASE, f"{BASE}/auth", f"{BASE}/token", capabilities=frozenset({"permission-v2"})
    )
    assert "patient/Observation.read" in v1.scope() and "launch/patient" in v1.scope()
    assert "patient/Observation.rs" in v2.scope() and ".read" not in v2.scope()


def test_binary_as_fhir_json_and_streamed_size_bound() -> None:
    import base64

    from myelonav.patient.smart.documents import _binary

    document = b"<ClinicalDocument/>"

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Binary/json"):
            data = base64.b64encode(document).decode()
            return httpx.Response(
                200,
                json={"resourceType": "Binary", "data": data},
                headers={"Content-Type": "application/fhir+json"},
            )
        # no Content-Length: the bound is applied while reading
        return httpx.Response(
            200,
            content=iter([b"<" + b"x" * 1024] * 64),
            headers={"Content-Type": "application/xml"},
        )

    reader = _reader(httpx.MockTransport(answer), [])
    assert _binary(reader, "Binary/json") == document
    with pytest.raises(ImportError_, match="larger than"):
        reader.get(f"{BASE}/Binary/big", max_bytes=10 * 1024)
    with pytest.raises(ImportError_, match="another server"):
        _binary(reader, "https://elsewhere.test/fhir/Binary/1")
