"""In real headless Chromium: the intake with the specialist questions and a one-click
confirmation, then the options summary, a card opened, every card opened at 320 px (axe, no
sideways scroll) and at 1280 px, and the print view showing what the screen collapses.

Conventions as ``test_browser.py`` (Debian chromium, vendored axe-core, no external requests,
screenshots in ``artifacts/screenshots/``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from myelonav.web.live import LiveServer, start_server

WIDTHS = {"narrow": 320, "desktop": 1280}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("options-browser")
    live = start_server(folder / "home", folder / "server.log")
    yield live
    live.stop()


@pytest.fixture(params=list(WIDTHS))
def page(request: pytest.FixtureRequest, open_page: Any) -> Iterator[Any]:
    with open_page(request.param, WIDTHS[request.param]) as pg:
        yield pg


def check_page(pg: Any, name: str) -> None:
    """axe-core: no violation at all; no sideways scrolling; a full-page screenshot."""
    pg.audit(name, shot=f"options-{name}")


def test_intake_confirm_then_options(server: LiveServer, page: Any) -> None:
    pg = page
    pg.goto(server.url + "/intake")
    pg.get_by_label("Carvykti (cilta-cel)").check()
    pg.get_by_label("Date of the CAR T infusion").fill("March 2026")
    pg.get_by_label("It worked at first (the myeloma went down)").check()
    pg.get_by_label("When did the myeloma come back or grow? (optional)").fill("2026-08")
    pg.locator("#crs-1").check()  # yes
    pg.locator("#crs_grade-2").check()  # grade 2
    pg.locator("#emd-1").check()  # yes
    pg.get_by_label("If yes, where? (optional)").fill("liver")
    pg.get_by_label("Date of these results").fill("2026-11-02")
    pg.get_by_label("Creatinine (mg/dL)").fill("1,400")
    pg.get_by_label('The report says no M-protein was found ("not detected")').check()
    pg.get_by_label("mg/dL (milligrams per decilitre)").check()
    pg.get_by_label("Kappa free light chains").fill("25")
    pg.get_by_label("Lambda free light chains").fill("0,8")
    pg.locator("#heart_failure-2").check()  # no
    pg.get_by_role("button", name="See my options").click()

    confirm = pg.get_by_role("button", name="Yes, 1.4 mg/dL is right")
    assert confirm.is_visible()
    assert "Creatinine: did you mean 1.4 mg/dL?" in pg.locator("#error-summary").inner_text()
    check_page(pg, "01-intake-confirm")
    confirm.click()
    pg.wait_for_url("**/options")

    summary = pg.locator(".options-summary")
    assert summary.is_visible()
    counts = summary.locator("a")
    assert counts.count() >= 2
    first_card = pg.locator("details.option-card").first
    assert first_card.get_attribute("open") is None, "cards start collapsed"
    check_page(pg, "02-options-summary")

    counts.first.click()
    assert pg.url.endswith("#may-fit")
    first_card.locator("> summary").click()
    assert first_card.get_attribute("open") is not None
    assert first_card.locator(".card-body").is_visible()
    check_page(pg, "03-options-card-open")

    pg.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    check_page(pg, "04-options-all-open")
    text = pg.locator("main").inner_text()
    assert "orr pct" not in text.lower() and "median os months" not in text.lower()


def test_print_shows_collapsed_cards_and_sources(server: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    r = pg.request.post(server.url + "/demo/sample-early-cilta-emd", max_redirects=0)
    profile = r.headers["location"]
    pg.goto(server.url + profile + "/options")
    body = pg.locator("details.option-card .card-body").first
    assert not body.is_visible(), "collapsed on screen"
    pg.emulate_media(media="print")
    assert body.is_visible(), "print expands every card"
    assert pg.locator(".sources li").first.is_visible()
    assert not pg.locator(".profile-nav").is_visible()
    context.close()
