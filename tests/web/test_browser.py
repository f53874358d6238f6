"""End to end in real headless Chromium: a caregiver's journey, axe-core on every page,
screenshots at phone (360 px) and desktop (1280 px) widths in ``artifacts/screenshots/``.

Needs Debian's ``chromium`` on PATH and the ``playwright`` Python package (its own browser
downloads are never used). axe-core is vendored in ``tests/web/assets/axe.min.js`` (npm
package ``axe-core``, MPL-2.0).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from myelonav.samples import sample_ids
from myelonav.web.live import LiveServer, start_server
from myelonav.web.services import visit_available

WIDTHS = {"phone": 360, "desktop": 1280}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("browser")
    live = start_server(folder / "home", folder / "server.log")
    yield live
    live.stop()


@pytest.fixture(params=list(WIDTHS))
def page(request: pytest.FixtureRequest, open_page: Any) -> Iterator[Any]:
    with open_page(request.param, WIDTHS[request.param]) as pg:
        yield pg


def check_page(pg: Any, name: str) -> None:
    """axe-core: no serious or critical violation; no sideways scrolling; a screenshot."""
    pg.audit(name, shot=name, impacts=("serious", "critical"), width_of="window.innerWidth")


def test_caregiver_journey(server: LiveServer, page: Any) -> None:
    pg = page
    pg.goto(server.url + "/")
    check_page(pg, "01-home")
    pg.get_by_role("link", name="Start the questions").click()
    pg.wait_for_url("**/intake")
    check_page(pg, "02-intake")

    # a caregiver who knows some things and not others
    pg.get_by_label("Age in years").fill("66")
    pg.get_by_label("ZIP code").fill("10029")
    pg.get_by_label("Carvykti (cilta-cel)").check()
    pg.get_by_label("Date of the CAR T infusion").fill("2026-02-02")
    pg.get_by_label("It worked at first (the myeloma went down)").check()
    pg.get_by_label("When did the myeloma come back or grow? (optional)").fill("2026-06-15")
    pg.get_by_label("bortezomib (Velcade)").check()
    pg.get_by_label("lenalidomide (Revlimid)").check()
    pg.get_by_label("daratumumab (Darzalex)").check()
    pg.get_by_label("I can't do hard physical work, but I can walk and do light work like "
                    "housework.").check()
    pg.get_by_label("How far could you travel for treatment? (miles)").fill("150")
    # t(11;14) left at "I don't know" (the default)
    assert pg.locator("#t11_14-unknown").is_checked()
    pg.get_by_role("button", name="See my options").click()
    pg.wait_for_url("**/options")
    assert "Options to talk about with your care team" in pg.content()
    assert "SAMPLE" not in pg.locator("main").inner_text()
    check_page(pg, "03-options-patient")
    pg.get_by_role("link", name="For clinicians").click()
    pg.wait_for_url("**audience=clinician")
    check_page(pg, "04-options-clinician")

    pg.locator(".profile-nav").get_by_role("link", name="Trials").click()
    pg.wait_for_url("**/trials")
    assert "No real trials are loaded yet" in pg.content()  # never the samples for a real person
    check_page(pg, "05-trials")
    pg.get_by_label("Show").select_option("likely_ineligible")
    pg.get_by_role("button", name="Update list").click()
    pg.wait_for_url("**verdict=likely_ineligible**")
    check_page(pg, "06-trials-filtered")

    if visit_available():
        pg.locator(".profile-nav").get_by_role("link", name="Questions").click()
        pg.wait_for_url("**/questions")
        check_page(pg, "07-questions")
        with pg.expect_download(timeout=60_000) as packet:
            pg.get_by_role("link", name="Download the packet (PDF)").click()
        assert packet.value.suggested_filename.endswith(".pdf")
        assert Path(packet.value.path()).read_bytes().startswith(b"%PDF-")

    pg.locator(".profile-nav").get_by_role("link", name="Summary").click()
    check_page(pg, "08-summary")
    assert "not known" in pg.locator("main").inner_text(), "unknowns shown as unknown"
    with pg.expect_download() as download:
        pg.get_by_role("link", name="Download everything saved").click()
    assert download.value.suggested_filename.startswith("myelonav-")
    pg.get_by_role("link", name="Delete this profile").click()
    pg.get_by_role("button", name="Yes, delete this profile").click()
    assert "Your profile is deleted" in pg.content()
    check_page(pg, "09-deleted")


def test_sample_demo_and_other_pages(server: LiveServer, page: Any) -> None:
    pg = page
    pg.goto(server.url + "/")
    label = "SAMPLE: " + sample_ids()[0].removeprefix("sample-").replace("-", " ")
    pg.get_by_role("button", name=label).click()
    pg.wait_for_url("**/p/*")
    assert pg.locator(".sample-banner").first.is_visible()
    check_page(pg, "10-sample-summary")
    pg.locator(".profile-nav").get_by_role("link", name="Options").click()
    assert pg.locator(".sample-banner").first.is_visible()
    check_page(pg, "11-sample-options")
    pg.locator(".profile-nav").get_by_role("link", name="Trials").click()
    assert "SAMPLE" in pg.locator("main").inner_text()
    check_page(pg, "12-sample-trials")
    if visit_available():
        pg.locator(".profile-nav").get_by_role("link", name="Questions").click()
        check_page(pg, "12b-sample-questions")

    pg.goto(server.url + "/intake")
    pg.get_by_label("ZIP code").fill("12")
    pg.get_by_role("button", name="See my options").click()
    assert pg.locator("#error-summary").is_visible()
    check_page(pg, "13-intake-errors")

    pg.goto(server.url + "/upload")
    check_page(pg, "14-upload")
    pg.goto(server.url + "/support")
    check_page(pg, "15-support")
    pg.get_by_label("Highest temperature today").fill("38.6")
    pg.get_by_label("Had CAR T in the last few months").check()
    pg.get_by_role("button", name="Check").click()
    assert "Call your care team now" in pg.content()
    check_page(pg, "16-support-result")
    pg.goto(server.url + "/privacy")
    check_page(pg, "17-privacy")
    pg.goto(server.url + "/p/" + "0" * 32)
    check_page(pg, "18-not-found")


def test_axe_check_catches_violations(open_page: Any) -> None:
    """The harness itself: a page with known violations must fail the check."""
    with open_page("phone", 360) as pg:
        pg.set_content("<html><body><img src='x.png'><input type='text'></body></html>")
        with pytest.raises(AssertionError, match="image-alt"):
            check_page(pg, "00-axe-self-test")
