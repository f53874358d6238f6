"""Adversarial text: the parser never raises and its time grows linearly with the text
(no regex with super-linear backtracking). Registry text is untrusted input."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.trials.criteria import parse_criteria, parser, units

_REAL = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "real_criteria.jsonl"

# Fragments that exercise every recogniser: off-scale numbers, huge integers, escapes,
# nested brackets, headings, bullets, operators and units.
_TOKENS = [
    "ECOG", "0-8", "9" * 40, "prior", "BCMA", "CAR T", "within", "60", "days", "of", "last",
    "dose", "refractory", "except", "unless", "ANC", ">=", "1.0", "x", "10^9/L", "\\<", "1\\.",
    "(", ")", ";", ".", "or", "and", "lines", "therapy", "Karnofsky", "150", "~", "0~1",
    "Inclusion Criteria:", "Exclusion Criteria:", "\n", "\n* ", "\n1. ", "daratumumab",
    "teclistamab", "GPRC5D-directed", "e.g.", "such as", "creatinine", "mg/dL", "umol/L",
    "platelets", "75,000,000,000,000,000", "/uL", "age", "18", "years", "months", "t(11;14)",
    "del(17p)", "allowed", "not excluded", "France specific:", "-", "x ULN", "≤", "≥", "—",
    "µ", "   ", "CD19-directed", "progression", "after", "infusion", "1e308", "((((", "))))",
    "0.0000000000000000001", "-5", "ECOG 0-8", "years old " * 3,
]  # fmt: skip


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_TOKENS) for _ in range(words))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=120), st.text(max_size=200))
def test_never_raises(tokens: list[str], noise: str) -> None:
    parsed = parse_criteria(" ".join(tokens) + noise)
    for c in parsed.criteria:
        assert c.id and c.text is not None


def test_three_thousand_adversarial_texts_do_not_crash() -> None:
    rng = random.Random(14)
    for i in range(3000):
        text = _text(rng, rng.choice((5, 15, 40)))
        parse_criteria(text * (20 if i % 150 == 0 else 1))


def test_time_is_linear_in_length() -> None:
    """A 20 KB line once took 117 s. Now 10 KB and 20 KB texts parse in well under a second,
    and doubling the text does not more than roughly double the time."""
    rng = random.Random(7)
    parse_criteria(_text(rng, 50))  # warm the vocabulary and regex caches
    timings = {}
    for size in (10_000, 20_000):
        text = _text(rng, size // 3)[:size]
        one_line = text.replace("\n", " ")
        start = time.perf_counter()
        parse_criteria(text)
        parse_criteria(one_line)
        timings[size] = (time.perf_counter() - start) / 2
    assert timings[10_000] < 2.0, timings
    assert timings[20_000] < 3.5 * timings[10_000] + 0.2, timings


def _cold_cpu_seconds(text: str) -> float:
    """CPU time (not wall: the test machine is shared) of one parse with every memo cleared."""
    parser.clear_caches()
    start = time.process_time()
    parse_criteria(text)
    return time.process_time() - start


def _real_text(rng: random.Random, size: int) -> str:
    """Real registry criteria (benchmarks/data, with provenance) as one long list."""
    lines = [json.loads(x)["text"] for x in _REAL.read_text("utf-8").splitlines() if x.strip()]
    parts = ["Inclusion Criteria:"]
    while sum(len(p) + 1 for p in parts) < size:
        parts.append("* " + rng.choice(lines))
    return "\n".join(parts)[:size]


def test_ten_kilobytes_parse_in_tens_of_milliseconds() -> None:
    """The goal is < 50 ms of CPU per 10 KB (measured ~30-45 ms on a loaded 2-core machine).
    The bound here is three times that for the median and ten times for the slowest, so a
    shared machine cannot make it flake while a super-linear pattern still fails it."""
    rng = random.Random(21)
    parse_criteria(_text(rng, 50))  # import-time work and compiled patterns
    texts = [_text(rng, 10_000 // 3)[:10_000] for _ in range(3)]
    texts += [t.replace("\n", " ") for t in texts[:1]]
    if _REAL.exists():
        texts += [_real_text(rng, 10_000) for _ in range(3)]
    texts += [" " * 10_000, "\t \n" * 3_333, "\n* -" * 2_500]  # runs that were quadratic
    timings = sorted(_cold_cpu_seconds(t) for t in texts)
    assert timings[len(timings) // 2] < 0.15, timings
    assert timings[-1] < 0.5, timings


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["at", "least", "LEAST", "than", "greater", "less", "no", "not", "or", "equal",
             "to", "up", "minimum", "maximum", "of", "most", "below", "above", "ſ", "K", "ı",
             "İ", " ", "  ", "\n", "5", "mg", "a", "leaſt", "abovE", "ThAn"]
        ),
        max_size=30,
    )
)  # fmt: skip
def test_word_comparators_are_found_with_or_without_the_keyword_screen(words: list[str]) -> None:
    text = " ".join(words)

    def symbol(m: re.Match[str]) -> str:
        assert m.lastindex is not None
        return f" {units._WORD_OPS_SYMBOL[m.lastindex - 1]} "

    unscreened = re.sub(r"\s+", " ", units._WORD_OPS_RE.sub(symbol, text))
    assert units.normalise_ops(text) == unscreened
