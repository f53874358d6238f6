"""The packet from the web app: the name only when the patient saves one, and the profile's
source deciding "Patient reported" against "From records"."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from myelonav.samples import sample_ids, sample_profile


@pytest.fixture(autouse=True)
def _html_packet(monkeypatch: pytest.MonkeyPatch) -> None:
    """The packet's HTML instead of its PDF (WeasyPrint takes seconds per packet; the PDF
    itself is tested in tests/visit/test_packet_tagged.py)."""
    import myelonav.visit.packet as packet

    monkeypatch.setattr(packet, "html_to_pdf", lambda html: html.encode("utf-8"))


def _packet_text(raw: bytes) -> str:
    return " ".join(raw.decode("utf-8").split())


def test_name_on_the_packet_only_when_saved(client: Any) -> None:
    pid = client.post(f"/api/v1/samples/{sample_ids()[0]}").json()["id"]
    page = client.get(f"/p/{pid}/questions")
    assert page.status_code == 200 and "not printed" in page.text
    assert "Prepared for" not in _packet_text(client.get(f"/p/{pid}/packet.pdf").content)

    saved = client.post(
        f"/p/{pid}/packet-name", data={"name_on_packet": "  Ana   María  "}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/p/{pid}/questions#packet"
    assert 'value="Ana María"' in client.get(f"/p/{pid}/questions").text
    assert "Prepared for: Ana María" in _packet_text(client.get(f"/p/{pid}/packet.pdf").content)

    client.post(f"/p/{pid}/packet-name", data={"name_on_packet": ""})
    assert "Prepared for" not in _packet_text(client.get(f"/p/{pid}/packet.pdf").content)
    assert (
        client.get(f"/api/v1/profiles/{pid}").json()["record"]["preferences"].get("name_on_packet")
        is None
    )


def test_a_name_too_long_is_refused_naming_the_field(client: Any) -> None:
    pid = client.post(f"/api/v1/samples/{sample_ids()[0]}").json()["id"]
    resp = client.post(f"/p/{pid}/packet-name", data={"name_on_packet": "x" * 121})
    assert resp.status_code == 422 and "name_on_packet" in resp.text
    api = client.patch(f"/api/v1/profiles/{pid}/preferences", json={"name_on_packet": "y" * 121})
    assert api.status_code == 422 and api.json()["field"].endswith("name_on_packet")
    ok = client.patch(f"/api/v1/profiles/{pid}/preferences", json={"name_on_packet": "Bo"})
    assert ok.status_code == 200
    assert ok.json()["record"]["preferences"]["name_on_packet"] == "Bo"


@pytest.mark.parametrize(
    ("source", "shown", "not_shown"),
    [("intake", "Patient reported", "From records"), ("fhir", "From records", "Patient reported")],
)
def test_the_profile_source_marks_the_facts(
    client: Any, app: FastAPI, source: str, shown: str, not_shown: str
) -> None:
    record = sample_profile(sample_ids()[0]).model_copy(update={"sample": False})
    pid = app.state.profiles.create(record, source).id
    text = _packet_text(client.get(f"/p/{pid}/packet.pdf").content)
    assert shown in text
    # the legend names both; no row carries the other mark
    assert text.count(not_shown) == 1
