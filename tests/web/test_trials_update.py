"""Real trials in the browser: the update from ClinicalTrials.gov (a fake API v2 on 127.0.0.1),
one update at a time, resumable, the date of the last update, samples only on demo profiles,
filters and the reasons trials are hidden."""

from __future__ import annotations

import datetime as dt
import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from myelonav.patient.models import PatientRecord
from myelonav.samples import sample_ids, sample_profile
from myelonav.settings import Settings
from myelonav.trials import match_service
from myelonav.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ARTICLE = re.compile(r'<article class="trial verdict-\w+" aria-labelledby="tr-(NCT\d{8})"')
FIXTURE_MYELOMA = 11  # of the 12 recorded studies, one is a lymphoma study


def real_record(travel: float | None = 200.0, zip_code: str = "10029") -> PatientRecord:
    """A real (non-sample) person with the first sample's history, in New York."""
    base = sample_profile(sample_ids()[0])
    data = base.model_dump(mode="json")
    data["sample"] = False
    data["id"] = "real-person"
    data["demographics"]["postal_code"] = zip_code
    data["preferences"]["max_travel_miles"] = travel
    return PatientRecord.model_validate(data)


def settings_for(tmp_path: Path, base_url: str, **extra: Any) -> Settings:
    return Settings(home=tmp_path / "home", web_allowed_hosts=["testserver"],
                    ctgov_base_url=base_url, ctgov_min_interval_s=0.0, ctgov_page_size=4,
                    ctgov_max_attempts=1, **extra)


@pytest.fixture
def synced_app(tmp_path: Path, fake_ctgov: Any) -> Iterator[FastAPI]:
    match_service.clear_caches()
    application = create_app(settings_for(tmp_path, fake_ctgov.base_url))
    yield application
    application.state.profiles.close()


def _create(client: TestClient, record: PatientRecord) -> str:
    r = client.post("/api/v1/profiles", json=record.model_dump(mode="json"))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _update(client: TestClient, app: FastAPI) -> Any:
    r = client.post("/trials/update", data={"back": "/p/" + "0" * 32 + "/trials"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/trials/update")
    return app.state.trials_update.wait(30)


def test_update_from_the_fake_api_then_real_trials_with_the_date(
    synced_app: FastAPI, fake_ctgov: Any
) -> None:
    with TestClient(synced_app, raise_server_exceptions=False) as client:
        pid = _create(client, real_record())
        before = client.get(f"/p/{pid}/trials").text
        assert "No real trials are loaded yet" in before
        assert "SAMPLE" not in before, "samples are never shown on a real person's page"
        assert "have not been updated from ClinicalTrials.gov" in before
        status = _update(client, synced_app)
        assert status.state == "done", status.error
        assert status.studies == FIXTURE_MYELOMA and status.total == FIXTURE_MYELOMA
        assert status.pages == 3  # 11 studies, 4 a page
        # the query the real API gets: the condition, the page size, a page token after page 1
        studies = [q for q in fake_ctgov.requests if q.startswith("/api/v2/studies")]
        assert "query.cond=multiple+myeloma" in studies[0] and "pageSize=4" in studies[0]
        assert all("pageToken=" in q for q in studies[1:])
        progress = client.get("/trials/update").text
        assert "Update finished" in progress and "11 studies fetched" in progress
        after = client.get(f"/p/{pid}/trials").text
        today = dt.datetime.now(dt.UTC).date().isoformat()
        assert f"Trials last updated from ClinicalTrials.gov on <strong>{today}" in after
        ids = ARTICLE.findall(after)
        assert ids and all(i.startswith("NCT098") for i in ids)
        assert "No real trials are loaded yet" not in after and "SAMPLE" not in after
        assert "NCT09800202" not in after  # the lymphoma study is not in the myeloma pull
        # the status, phase, kind of treatment and the site contact as the registry gives them
        assert "<dt>Status</dt><dd>Recruiting now</dd>" in after
        assert "<dt>Phase</dt><dd>Phase" in after
        assert re.search(r'<a href="tel:555-01\d\d">555-01\d\d</a>', after)
        questions = client.get(f"/p/{pid}/questions").text
        assert f"Trials last updated from ClinicalTrials.gov on {today}" in questions


def test_one_update_at_a_time_and_the_progress_page_refreshes(
    synced_app: FastAPI, fake_ctgov: Any
) -> None:
    fake_ctgov.delay_s = 0.4
    with TestClient(synced_app, raise_server_exceptions=False) as client:
        assert synced_app.state.trials_update.start()
        assert not synced_app.state.trials_update.start(), "a second update is not started"
        r = client.post("/trials/update", data={}, follow_redirects=False)
        assert r.status_code == 303
        page = client.get("/trials/update").text
        assert "Updating now" in page and '<meta http-equiv="refresh" content="2">' in page
        assert "Update trials from ClinicalTrials.gov</button>" not in page
        done = synced_app.state.trials_update.wait(30)
        assert done.state == "done"
    first_pages = [q for q in fake_ctgov.requests
                   if q.startswith("/api/v2/studies?") and "pageToken" not in q]
    assert len(first_pages) == 1, "the second request did not start another pull"


def test_an_interrupted_update_continues_where_it_stopped(
    synced_app: FastAPI, fake_ctgov: Any
) -> None:
    with TestClient(synced_app, raise_server_exceptions=False) as client:
        pid = _create(client, real_record())
        fake_ctgov.go_offline_after(1)
        failed = _update(client, synced_app)
        assert failed.state == "failed" and failed.pages == 1
        assert "press Update again" in (failed.error or "")
        page = client.get("/trials/update").text
        assert "The update stopped" in page and "Continue the update" in page
        # after a restart the store still knows: the page says so and offers to continue
        restarted = create_app(synced_app.state.settings)
        try:
            with TestClient(restarted, raise_server_exceptions=False) as fresh:
                again = fresh.get("/trials/update").text
                assert "An update was interrupted" in again and "Continue the update" in again
                assert "updating again continues where it stopped" in fresh.get(
                    f"/p/{pid}/trials").text
        finally:
            restarted.state.profiles.close()
        # nothing half-done is shown: the list changes only when a whole update is in
        assert "No real trials are loaded yet" in client.get(f"/p/{pid}/trials").text
        fake_ctgov.back_online()
        served = len(fake_ctgov.requests)
        resumed = _update(client, synced_app)
        assert resumed.state == "done" and resumed.resumed
        again = [q for q in fake_ctgov.requests[served:] if q.startswith("/api/v2/studies")]
        assert len(again) == 2 and all("pageToken=" in q for q in again), again
        assert ARTICLE.findall(client.get(f"/p/{pid}/trials").text)


def test_samples_only_on_demo_profiles(client: TestClient) -> None:
    """Offline, nothing synced: the demo shows the labelled samples, a real person does not."""
    demo = client.post(f"/demo/{sample_ids()[0]}", follow_redirects=False).headers["location"]
    text = client.get(demo + "/trials").text
    assert "SAMPLE" in text and "shown only on the demo profiles" in text
    assert ARTICLE.findall(text)
    pid = _create(client, real_record())
    real = client.get(f"/p/{pid}/trials").text
    assert "No real trials are loaded yet" in real and not ARTICLE.findall(real)
    assert "SAMPLE" not in real
    api = client.get(f"/api/v1/profiles/{pid}/trials").json()
    assert api["no_real_trials"] and api["trials"] == [] and api["hidden"] == []
    questions = client.get(f"/p/{pid}/questions").text
    assert "No real trials are loaded yet" in questions and "NCT99" not in questions


def test_filters_and_the_reasons_trials_are_hidden(synced_app: FastAPI) -> None:
    with TestClient(synced_app, raise_server_exceptions=False) as client:
        assert _update(client, synced_app).state == "done"
        pid = _create(client, real_record(travel=200.0))
        api = client.get(f"/api/v1/profiles/{pid}/trials").json()
        assert api["within_miles"] == 200.0
        shown = [t["nct_id"] for t in api["trials"]]
        far = [h for h in api["hidden"] if "too_far" in h["kinds"]]
        assert shown and far, "New York, 200 miles: some trials are near, some are not"
        assert all(t["nearest_site"] is None or t["nearest_site"]["miles"] <= 200
                   for t in api["trials"])
        for h in far:
            assert re.search(r"too far: the nearest open site is \d+ miles away, more than "
                             r"your limit of 200 miles", " ".join(h["reasons"]))
            assert h["miles"] > 200
        farther = sum(1 for h in api["hidden"] if h["kinds"] == ["too_far"])
        headline = (f"{len(shown)} trial{'s' if len(shown) != 1 else ''} that may fit within "
                    f"200 miles of ")
        assert api["headline"].startswith(headline), api["headline"]
        if farther:
            assert f"{farther} more farther away" in api["headline"]
        for h in api["hidden"]:
            if "ineligible" in h["kinds"]:
                assert h["reasons"][0].startswith("likely not eligible because of the rule")
        page = client.get(f"/p/{pid}/trials").text
        assert api["headline"].replace("'", "&#39;") in page
        assert "Why each was left out" in page
        # filters: a status nobody has, a phase, a kind of treatment
        nyr = client.get(f"/p/{pid}/trials", params={"status": "NOT_YET_RECRUITING",
                                                     "within_miles": "5000"})
        assert nyr.status_code == 200
        listed = ARTICLE.findall(nyr.text)
        assert all(i == "NCT09800110" for i in listed)  # the one study not yet recruiting
        assert "filtered out by you: its status is Recruiting now" in nyr.text
        car_t = client.get(f"/api/v1/profiles/{pid}/trials",
                           params={"within_miles": 5000}).json()
        assert not any("too_far" in h["kinds"] for h in car_t["hidden"])
        only = client.get(f"/p/{pid}/trials", params={"category": "bispecific",
                                                      "phase": "PHASE1",
                                                      "within_miles": "5000"}).text
        assert "filtered out by you" in only
        bad = client.get(f"/p/{pid}/trials", params={"status": "OPEN_SOON"})
        assert bad.status_code == 422 and 'href="#status"' in bad.text


def test_the_same_trials_on_every_page_and_in_the_cli(
    synced_app: FastAPI, tmp_path: Path
) -> None:
    """Trials page, questions, packet and `trials match` list the same NCT ids with the same
    travel limit and say the same count."""
    import json

    from typer.testing import CliRunner

    from myelonav.cli import app as cli_app
    from myelonav.web.visit_service import packet_html

    record = real_record(travel=200.0)
    with TestClient(synced_app, raise_server_exceptions=False) as client:
        assert _update(client, synced_app).state == "done"
        pid = _create(client, record)
        page = client.get(f"/p/{pid}/trials").text
        questions = client.get(f"/p/{pid}/questions").text
        saved = synced_app.state.profiles.get(pid)
        assert saved is not None
    db = synced_app.state.trials_db
    web_ids = ARTICLE.findall(page)
    headline = re.search(r'<p role="status" class="headline"><strong>(.*?)</strong>', page)
    assert web_ids and headline
    section = questions.split('class="trial-rows"', 1)[1].split("</details>", 1)[0]
    question_ids = re.findall(r"<strong>(NCT\d{8})</strong>", section)
    as_of = dt.date.today()
    packet = packet_html(saved.record, as_of, db)
    packet_section = packet.split('<section id="trials">', 1)[1].split("</section>", 1)[0]
    packet_ids = re.findall(r"<td>(NCT\d{8})", packet_section)
    profile = tmp_path / "person.json"
    profile.write_text(record.model_dump_json())
    match_service.clear_caches()
    out = CliRunner().invoke(cli_app, ["trials", "match", str(profile), "--db", str(db),
                                       "--format", "json"])
    assert out.exit_code == 0, out.output
    cli = json.loads(out.stdout)
    cli_ids = [t["nct_id"] for t in cli["trials"]]
    assert web_ids == cli_ids == question_ids == packet_ids, (web_ids, cli_ids, question_ids,
                                                             packet_ids)
    said = headline.group(1)
    assert cli["headline"] == said.replace("&#39;", "'")
    assert said in questions and said in packet_section
    assert cli["within_miles"] == 200.0


def test_automatic_refresh(tmp_path: Path, fake_ctgov: Any) -> None:
    cfg = settings_for(tmp_path, fake_ctgov.base_url, trials_refresh_days=7.0,
                       trials_refresh_check_s=1.0)
    application = create_app(cfg)
    updater = application.state.trials_update
    try:
        assert updater.due(), "never updated: due"
        with TestClient(application, raise_server_exceptions=False):  # runs the lifespan
            deadline = time.monotonic() + 30
            while updater.status().state != "done" and time.monotonic() < deadline:
                time.sleep(0.1)
            status = updater.status()
            assert status.state == "done" and status.trigger == "automatic"
            assert not updater.due()
            later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
            assert updater.due(later)
    finally:
        application.state.profiles.close()
    off = create_app(settings_for(tmp_path / "off", fake_ctgov.base_url))
    try:
        updater = off.state.trials_update
        assert not updater.due() and not updater.start_auto_refresh()
    finally:
        off.state.profiles.close()


def test_later_updates_ask_only_for_what_changed(synced_app: FastAPI, fake_ctgov: Any) -> None:
    with TestClient(synced_app, raise_server_exceptions=False) as client:
        pid = _create(client, real_record(travel=5000.0))
        assert _update(client, synced_app).mode == "full"
        assert "NCT09800101" in client.get(f"/p/{pid}/trials").text
        quiet = _update(client, synced_app)
        assert quiet.state == "done" and quiet.mode == "incremental" and quiet.studies == 0
        assert "Nothing changed on ClinicalTrials.gov" in client.get("/trials/update").text
        assert "filter.advanced=AREA%5BLastUpdatePostDate%5DRANGE%5B" in fake_ctgov.requests[-1]
        today = dt.datetime.now(dt.UTC).date().isoformat()
        fake_ctgov.set_status("NCT09800101", "ACTIVE_NOT_RECRUITING", today)
        changed = _update(client, synced_app)
        assert changed.mode == "incremental" and changed.studies == 1
        assert "new or changed since the last update" in client.get("/trials/update").text
        # no longer recruiting: not checked, not listed (closed studies are not checked)
        assert "NCT09800101" not in client.get(f"/p/{pid}/trials").text
