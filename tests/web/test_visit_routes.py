"""Visit routes (questions, packet PDF, plot) in the API and the pages."""

from __future__ import annotations

from typing import Any

import pytest

from myelonav.web.services import visit_available

if not visit_available():
    pytest.skip("myelonav.visit is not installed", allow_module_level=True)


def _saved(client: Any) -> str:
    pid: str = client.post("/api/v1/samples/sample-early-cilta-emd").json()["id"]
    return pid


def test_questions_api(client: Any) -> None:
    pid = _saved(client)
    body = client.get(f"/api/v1/profiles/{pid}/questions").json()
    assert body["sample"] is True and body["as_of"] == "2026-11-25"
    assert body["questions"], "core questions are always asked"
    assert all(q["text"] and q["why"] for q in body["questions"])
    r = client.get(f"/api/v1/profiles/{pid}/questions", params={"as_of": "nope"})
    assert r.status_code == 422 and r.json()["field"] == "as_of"


def test_packet_pdf_api(client: Any) -> None:
    pid = _saved(client)
    r = client.get(f"/api/v1/profiles/{pid}/packet.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert "SAMPLE" in r.headers["content-disposition"]


@pytest.mark.parametrize(("fmt", "media", "magic"), [
    ("png", "image/png", b"\x89PNG"), ("svg", "image/svg+xml", b"<?xml"),
])
def test_plot_api(client: Any, fmt: str, media: str, magic: bytes) -> None:
    pid = _saved(client)
    r = client.get(f"/api/v1/profiles/{pid}/plot", params={"format": fmt})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert r.content.startswith(magic)
    assert client.get(f"/api/v1/profiles/{pid}/plot",
                      params={"format": "gif"}).status_code == 422


def test_questions_page(client: Any) -> None:
    loc = client.post("/demo/sample-early-cilta-emd", follow_redirects=False).headers["location"]
    text = client.get(loc + "/questions").text
    assert "Questions for your next visit" in text and "SAMPLE" in text
    assert f'href="{loc}/packet.pdf"' in text
    assert f'src="{loc}/plot.svg" alt="' in text
    assert client.get(loc + "/packet.pdf").content.startswith(b"%PDF-")
    assert client.get(loc + "/plot.svg").headers["content-type"].startswith("image/svg+xml")
