"""The walk-through of issue 15 in real headless Chromium, phone (360 px) and desktop (1280 px):
intake with a month-only date and a decimal comma → options → edit an answer (the same profile,
the change in its history) → trials after an update from a fake ClinicalTrials.gov API v2 on
127.0.0.1 → questions and packet listing the same trials → delete, confirmed. Every page:
axe-core with no violation of any impact, no external request, and
again at 320 px with every ``<details>`` open and no sideways scroll. Screenshots in
``artifacts/screenshots/walk-*.png``.

Needs Debian's ``chromium`` and the ``playwright`` package (as ``test_browser.py``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from myelonav.web.live import LiveServer, start_server
from myelonav.web.services import visit_available

WIDTHS = {"phone": 360, "desktop": 1280}
NCT = re.compile(r"NCT\d{8}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           fake_ctgov_shared: Any) -> Iterator[LiveServer]:
    fake_api = fake_ctgov_shared
    folder = tmp_path_factory.mktemp("walk")
    live = start_server(folder / "home", folder / "server.log", env_extra={
        "MYELONAV_CTGOV_BASE_URL": fake_api.base_url,
        "MYELONAV_CTGOV_MIN_INTERVAL_S": "0",
        "MYELONAV_CTGOV_PAGE_SIZE": "4",
        "MYELONAV_CTGOV_MAX_ATTEMPTS": "2",
    })
    yield live
    live.stop()


@pytest.fixture(params=list(WIDTHS))
def page(request: pytest.FixtureRequest, open_page: Any) -> Iterator[Any]:
    with open_page(request.param, WIDTHS[request.param], allowed=("blob:",)) as pg:
        yield pg


def check_page(pg: Any, name: str) -> None:
    """axe at this width and at 320 px with every <details> open; no sideways scroll; shots."""
    pg.audit(f"{name} ({pg.width_name})", shot=f"walk-{name}")
    if pg.width_name != "phone":
        return
    pg.set_viewport_size({"width": 320, "height": 800})
    pg.width_name = "320-open"
    try:
        opened = pg.evaluate(
            "() => { const d = [...document.querySelectorAll('details')];"
            " d.forEach(x => x.open = true); return d.length; }")
        pg.audit(f"{name} (320 px, {opened} details open)", shot=f"walk-{name}")
    finally:
        pg.width_name = "phone"
        pg.set_viewport_size({"width": pg.width_px, "height": 800})


def _ids(pg: Any, selector: str) -> list[str]:
    return [i for t in pg.locator(selector).all_text_contents() for i in NCT.findall(t)]


def test_walkthrough(server: LiveServer, page: Any, tmp_path: Path) -> None:
    pg = page
    pg.goto(server.url + "/")
    check_page(pg, "01-home")
    pg.get_by_role("link", name="Start the questions").click()
    pg.wait_for_url("**/intake")
    check_page(pg, "02-intake")

    # intake: a month-only CAR T date and a creatinine with a decimal comma
    pg.get_by_label("Age in years").fill("64")
    pg.get_by_label("ZIP code").fill("10029")
    pg.get_by_label("Carvykti (cilta-cel)").check()
    pg.get_by_label("Date of the CAR T infusion").fill("2026-02")
    pg.get_by_label("It worked at first (the myeloma went down)").check()
    pg.get_by_label("When did the myeloma come back or grow? (optional)").fill("June 2026")
    pg.get_by_label("bortezomib (Velcade)").check()
    pg.get_by_label("lenalidomide (Revlimid)").check()
    pg.get_by_label("daratumumab (Darzalex)").check()
    pg.get_by_label("I can't do hard physical work, but I can walk and do light work like "
                    "housework.").check()
    pg.get_by_label("How far could you travel for treatment? (miles)").fill("200")
    pg.get_by_label("Creatinine (mg/dL)").fill("1,4")
    pg.get_by_label("Date of these results").fill("2026-11-20")
    pg.get_by_role("button", name="See my options").click()
    pg.wait_for_load_state()
    if "/options" not in pg.url:  # asked to confirm the reading of "1,4": confirm it
        check_page(pg, "02b-intake-confirm")
        confirm = pg.get_by_label(re.compile(r"1\.4", re.I)).first
        if confirm.count():
            confirm.check()
        pg.get_by_role("button", name="See my options").click()
    pg.wait_for_url("**/options")
    main = pg.locator("main").inner_text()
    assert "Options to talk about with your care team" in main
    check_page(pg, "03-options")
    profile_url = pg.url.removesuffix("/options")

    pg.locator(".profile-nav").get_by_role("link", name="Summary").click()
    pg.wait_for_url(profile_url)
    summary = pg.locator("main").inner_text()
    assert "1.4" in summary and "14 mg/dL" not in summary, "1,4 is read as 1.4"
    assert "2026-02" in summary or "February 2026" in summary, "the month is shown as given"
    check_page(pg, "04-summary")

    # edit one answer in place: the same profile, with the change in its history
    pg.get_by_role("link", name="Change your answers").click()
    pg.wait_for_url(profile_url + "/edit")
    assert pg.get_by_label("Creatinine (mg/dL)").input_value() == "1,4", "kept as typed"
    check_page(pg, "04b-edit")
    pg.get_by_label("Creatinine (mg/dL)").fill("1.2")
    pg.get_by_role("button", name="Save changes").click()
    pg.wait_for_url(profile_url + "/history**")
    history = pg.locator("main").inner_text()
    assert "Creatinine" in history and "1,4" in history and "1.2" in history
    check_page(pg, "04c-history")
    pg.goto(profile_url)
    assert "1.2" in pg.locator("main").inner_text(), "the same profile shows the new answer"

    # trials: nothing real yet -> update from the (fake) registry -> real trials
    pg.locator(".profile-nav").get_by_role("link", name="Trials").click()
    pg.wait_for_url("**/trials")
    text = pg.locator("main").inner_text()
    if "No real trials are loaded yet" in text:
        check_page(pg, "05-trials-none-yet")
    assert "SAMPLE" not in text
    pg.get_by_role("button", name="Update trials from ClinicalTrials.gov").first.click()
    pg.wait_for_url("**/trials/update**")
    deadline = time.monotonic() + 60
    while "Update finished" not in pg.content() and time.monotonic() < deadline:
        assert "The update stopped" not in pg.content(), pg.locator("main").inner_text()
        time.sleep(0.5)
        pg.reload()
    assert "Update finished" in pg.content()
    check_page(pg, "06-update-finished")
    pg.get_by_role("link", name="Back to the trials").click()
    pg.wait_for_url("**/trials")
    headline = pg.locator("p.headline").inner_text()
    assert re.match(r"\d+ trials? that may fit within 200 miles of ", headline), headline
    trial_ids = _ids(pg, "article.trial h2 + p.status-line")
    assert trial_ids, "the fake registry has trials near New York"
    assert "Trials last updated from ClinicalTrials.gov on" in pg.locator("main").inner_text()
    check_page(pg, "07-trials")
    more = pg.locator("details.more-filters")
    if more.get_attribute("open") is None:  # (check_page opens every <details> on phones)
        pg.get_by_text("Status, phase and kind of treatment").click()
    pg.get_by_label("Phase 1", exact=True).check()
    pg.get_by_role("button", name="Update list").click()
    pg.wait_for_url("**phase=PHASE1**")
    assert "filtered out by you" in pg.content()
    check_page(pg, "08-trials-filtered")

    if visit_available():
        pg.locator(".profile-nav").get_by_role("link", name="Questions").click()
        pg.wait_for_url("**/questions")
        assert headline in pg.locator("main").inner_text()
        assert _ids(pg, "details.trial-rows li") == trial_ids[:10]
        check_page(pg, "09-questions")
        with pg.expect_download(timeout=90_000) as packet:
            pg.get_by_role("link", name="Download the packet (PDF)").click()
        pdf = tmp_path / "packet.pdf"
        packet.value.save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF-")
        if shutil.which("pdftotext"):
            words = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                                   capture_output=True, text=True).stdout
            section = words.split("Matched clinical trials", 1)[1].split("Questions we want", 1)[0]
            assert list(dict.fromkeys(NCT.findall(section))) == trial_ids[:10]
            assert " ".join(headline.split()[:6]) in " ".join(section.split())

    # delete asks first
    pg.locator(".profile-nav").get_by_role("link", name="Summary").click()
    pg.wait_for_url(profile_url)
    pg.get_by_role("link", name="Delete this profile").click()
    pg.wait_for_url(profile_url + "/delete")
    check_page(pg, "10-delete-confirm")
    pg.get_by_role("button", name="Yes, delete this profile").click()
    assert "Your profile is deleted" in pg.content()
    check_page(pg, "11-deleted")
    pg.goto(profile_url)
    assert "no saved profile" in pg.content().lower() or "does not point" in pg.content()
