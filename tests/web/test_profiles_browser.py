"""Profiles that last, end to end in headless Chromium at phone and desktop widths: intake →
options → edit an answer (same profile, history shows it) → add a lab → my profiles →
delete → confirm → undo → delete again. axe-core on every page, no sideways scrolling, no
external requests; screenshots in ``artifacts/screenshots/profiles-*``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from myelonav.web.live import LiveServer, start_server

WIDTHS = {"phone": 360, "desktop": 1280}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("profiles-browser")
    live = start_server(folder / "home", folder / "server.log")
    yield live
    live.stop()


@pytest.fixture(params=list(WIDTHS))
def page(request: pytest.FixtureRequest, open_page: Any) -> Iterator[Any]:
    with open_page(request.param, WIDTHS[request.param]) as pg:
        yield pg


def check_page(pg: Any, name: str) -> None:
    """axe-core: no violation at all; no sideways scrolling; a full-page screenshot."""
    pg.audit(name, shot=f"profiles-{name}", width_of="window.innerWidth")


def _profile_id(pg: Any) -> str:
    match = re.search(r"/p/([0-9a-f]{32})", pg.url)
    assert match, pg.url
    return match.group(1)


def test_profile_that_lasts(server: LiveServer, page: Any) -> None:
    pg = page
    pg.goto(server.url + "/intake")
    pg.get_by_label("Age in years").fill("66")
    pg.get_by_label("Carvykti (cilta-cel)").check()
    pg.get_by_label("Date of the CAR T infusion").fill("March 2026")
    pg.get_by_label("It worked at first (the myeloma went down)").check()
    pg.get_by_label("bortezomib (Velcade)").check()
    pg.get_by_label("Date of these results").fill("2026-11-02")
    pg.get_by_label("Creatinine (mg/dL)").fill("1,4")
    pg.get_by_role("button", name="See my options").click()
    pg.wait_for_url("**/options")
    pid = _profile_id(pg)
    check_page(pg, "01-options")

    # edit an answer in place: the same profile, the change in its history
    pg.locator(".profile-nav").get_by_role("link", name="Summary").click()
    pg.get_by_role("link", name="Change your answers").click()
    pg.wait_for_url(f"**/p/{pid}/edit")
    assert pg.get_by_label("Date of the CAR T infusion").input_value() == "March 2026"
    assert pg.get_by_label("Creatinine (mg/dL)").input_value() == "1,4"
    assert pg.get_by_label("bortezomib (Velcade)").is_checked()
    check_page(pg, "02-edit")
    pg.get_by_label("Creatinine (mg/dL)").fill("1.1")
    pg.get_by_role("button", name="Save changes").click()
    pg.wait_for_url(f"**/p/{pid}/history?saved=1")
    assert _profile_id(pg) == pid
    history = pg.locator("main").inner_text()
    assert "Creatinine" in history and "1,4" in history and "1.1" in history
    check_page(pg, "03-history")

    # a new lab, with the confirmation an ambiguous number needs
    pg.goto(f"{server.url}/p/{pid}/labs")
    check_page(pg, "04-labs")
    pg.get_by_label("Date of the result").fill("2026-11-20")
    pg.get_by_label("Test", exact=True).select_option("creatinine")
    pg.get_by_label("Result", exact=True).fill("133")
    pg.get_by_role("button", name="Add this result").click()
    assert pg.locator("#error-summary").is_visible()
    check_page(pg, "05-labs-confirm")
    pg.get_by_role("button", name=re.compile("Yes, I meant 1.504")).click()
    pg.wait_for_url("**/labs?added=1")
    assert "1.504" in pg.locator("main").inner_text()
    check_page(pg, "06-labs-added")

    # name it on my profiles
    pg.goto(f"{server.url}/p/{pid}")
    pg.get_by_label(re.compile("Name on your profiles list")).fill("Dad")
    pg.get_by_role("button", name="Save the name").click()
    pg.goto(server.url + "/profiles")
    assert pg.get_by_role("link", name="Dad").first.is_visible()
    check_page(pg, "07-my-profiles")

    # delete asks first; undo brings it back; delete again
    pg.goto(f"{server.url}/p/{pid}")
    pg.get_by_role("link", name="Delete this profile").click()
    pg.wait_for_url(f"**/p/{pid}/delete")
    check_page(pg, "08-delete-confirm")
    pg.get_by_role("button", name="Yes, delete this profile").click()
    assert "Your profile is deleted" in pg.content()
    check_page(pg, "09-deleted-undo")
    pg.get_by_role("button", name="Undo: bring the profile back").click()
    pg.wait_for_url(f"**/p/{pid}")
    assert "What we know" in pg.content()
    pg.get_by_role("link", name="Delete this profile").click()
    pg.get_by_role("button", name="Yes, delete this profile").click()
    assert "Your profile is deleted" in pg.content()
    pg.goto(server.url + "/profiles")
    assert pg.get_by_role("link", name="Dad").count() == 0
