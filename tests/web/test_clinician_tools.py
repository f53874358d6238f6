"""Clinician tools: the CLI's calculators on a profile, reachable from the profile pages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from myelonav.samples import sample_ids


def _demo(client: Any, sample: str) -> str:
    return str(client.post(f"/demo/{sample}", follow_redirects=False).headers["location"])


@pytest.mark.parametrize("sample", sample_ids())
def test_tools_page_runs_every_calculator_or_says_why(client: Any, sample: str) -> None:
    base = _demo(client, sample)
    assert f'href="{base}/clinician?audience=clinician"' in client.get(base).text
    text = client.get(base + "/clinician").text
    for title in ("IMWG response after the last CAR T", "Staging at diagnosis",
                  "Kidney function", "CRS and ICANS recorded"):
        assert title in text
    assert "Lancet Oncol 2016" in text and "N Engl J Med 2021" in text
    assert "Traceback" not in text


def test_crs_and_icans_grading(client: Any) -> None:
    base = _demo(client, sample_ids()[0])
    crs = client.get(base + "/clinician", params={"calc": "crs", "temperature": "38,9",
                                                  "hypotension": "one_vasopressor"})
    assert crs.status_code == 200 and "Grade 3" in crs.text
    icans = client.get(base + "/clinician", params={"calc": "icans", "ice": "8"})
    assert "Grade 1" in icans.text
    bad = client.get(base + "/clinician", params={"calc": "crs", "temperature": "hot"})
    assert bad.status_code == 422 and "Cannot calculate: temperature" in bad.text


def test_dosing_calendar(client: Any) -> None:
    base = _demo(client, sample_ids()[0])
    page = client.get(base + "/clinician")
    schedule = page.text.split('<select id="schedule" name="schedule"><option value="', 1)[1]
    schedule = schedule.split('"', 1)[0]
    r = client.get(base + "/clinician", params={"calc": "calendar", "schedule": schedule,
                                                "start": "2026-12-07"})
    assert r.status_code == 200 and "2026-12-07 (week 1)" in r.text
    bad = client.get(base + "/clinician", params={"calc": "calendar", "schedule": schedule,
                                                  "start": "next week"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text


def test_voice_link_and_tools_in_the_profile_nav(client: Any) -> None:
    base = _demo(client, sample_ids()[0])
    plain = client.get(base).text
    assert f'href="{base}?audience=clinician"' in plain
    assert f'href="{base}/clinician"' not in plain.split("</nav>", 2)[1]
    clinician = client.get(base + "?audience=clinician").text
    assert f'href="{base}/clinician"' in clinician
    assert "Switch to plain words" in client.get(base + "/trials").text, "voice remembered"


def test_trials_and_questions_pages_speak_to_the_clinician_when_asked(client: Any) -> None:
    from myelonav.web.services import visit_available

    base = _demo(client, sample_ids()[0])
    plain = client.get(base + "/trials").text
    clinical = client.get(base + "/trials", params={"audience": "clinician"}).text
    assert "Clinical trials that may fit" in plain and "Your record:" in plain
    assert "Trial matching against the record" in clinical
    assert "Eligibility criteria, judged against the record" in clinical
    assert "Verdict: " in clinical and "unresolved" in clinical
    assert "Your record:" not in clinical and "Record:" in clinical
    # the same trials either way
    ids = sorted(set(re.findall(r"NCT\d{8}", plain)))
    assert ids and ids == sorted(set(re.findall(r"NCT\d{8}", clinical)))
    if visit_available():
        questions = client.get(base + "/questions", params={"audience": "clinician"}).text
        assert "The patient's questions for the visit" in questions
        assert "Triggered by:" in questions and "Why ask:" not in questions
        assert "Why ask:" in client.get(base + "/questions", params={"audience": "patient"}).text
