"""The options page: summary first, collapsed cards, natural frequencies, no machine phrases,
every citation kept for print, and the clinician voice remembered across pages."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from myelonav.options.report import options_report
from myelonav.samples import SAMPLE_AS_OF, sample_ids, sample_profile
from myelonav.web.options_view import options_view, report_citations

MACHINE = re.compile(r"\b[a-z]+_[a-z_]+\b|\bpct\b|median os|orr pct|not recorded yet\b")


def _demo(client: Any, sample: str) -> str:
    r = client.post(f"/demo/{sample}", follow_redirects=False)
    assert r.status_code == 303
    return str(r.headers["location"])


def _visible(text: str) -> str:
    """The page's words (tags, attributes and the sources list removed)."""
    body = text.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    body = body.split('<section aria-labelledby="sources-heading"', 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("sample", sample_ids())
def test_summary_first_with_counts_that_jump(client: Any, sample: str) -> None:
    text = client.get(_demo(client, sample) + "/options").text
    summary = text.index('class="panel options-summary"')
    assert summary < text.index('class="option-card')
    links = re.findall(r'<li><a href="#([a-z-]+)"><strong>(\d+)</strong>', text)
    assert links, "counts with jump links"
    for anchor, count in links:
        section = text.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]
        assert section.count('<details class="option-card') == int(count)
    report = options_report(sample_profile(sample), SAMPLE_AS_OF)
    assert sum(int(c) for _, c in links) == len(report["options"])


@pytest.mark.parametrize("sample", sample_ids())
def test_every_citation_is_in_the_printed_page(client: Any, sample: str) -> None:
    text = client.get(_demo(client, sample) + "/options").text
    report = options_report(sample_profile(sample), SAMPLE_AS_OF)
    sources = text.split('<section aria-labelledby="sources-heading"', 1)[1]
    for citation in report_citations(report):
        assert html.escape(citation) in sources, citation
    assert "@media print" in open_css(client) and "details-content" in open_css(client)


def open_css(client: Any) -> str:
    return str(client.get("/static/style.css").text)


@pytest.mark.parametrize("sample", sample_ids())
def test_plain_words_only(client: Any, sample: str) -> None:
    words = _visible(client.get(_demo(client, sample) + "/options").text)
    assert not MACHINE.findall(words), sorted(set(MACHINE.findall(words)))[:10]
    assert "goals of care" not in words
    assert " 0 in 10" not in words


@pytest.mark.parametrize("sample", sample_ids())
def test_why_never_repeats_what_we_need_to_know(sample: str) -> None:
    view = options_view(options_report(sample_profile(sample), SAMPLE_AS_OF))
    for card in view.cards:
        assert not {w.text for w in card.why} & set(card.missing), card.name
        assert card.headline


def test_survival_only_behind_more_detail(client: Any) -> None:
    text = client.get(_demo(client, sample_ids()[0]) + "/options").text
    assert 'class="more-detail"' in text
    outside = re.sub(r'<details class="more-detail">.*?</details>', "", text, flags=re.S)
    assert "still alive" not in outside
    assert "cannot say how long any one person will live" in text
    assert re.search(r"About \d in 10 of [\d,]+ people responded", text)


def test_clinician_voice_is_remembered(client: Any) -> None:
    base = _demo(client, sample_ids()[0])
    clinician = client.get(base + "/options?audience=clinician")
    assert "myelonav_voice=clinician" in clinician.headers["set-cookie"]
    assert "ORR " in clinician.text and 'class="facts-used"' in clinician.text
    again = client.get(base + "/options").text
    assert 'class="facts-used"' in again, "the choice holds without the parameter"
    back = client.get(base + "/options?audience=patient").text
    assert 'class="facts-used"' not in back and "ORR " not in back


def test_month_only_dates_are_shown_as_given(client: Any) -> None:
    form = {"car_t_product": "ciltacabtagene autoleucel", "car_t_date": "March 2026",
            "progression_date": "August 2026"}
    r = client.post("/intake", data=form, follow_redirects=False)
    assert r.status_code == 303
    text = client.get(r.headers["location"]).text
    assert "You had CAR T (ciltacabtagene autoleucel) in March 2026." in text
    assert "growing again in August 2026" in text
    assert "March 15" not in text and "August 15" not in text
