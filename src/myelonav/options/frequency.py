"""Study results in words a frightened person can read: natural frequencies and medians.

One formatter for every page and the CLI, so a card never says "about 2 in 3" in one place
and "about 7 in 10" in another. Natural frequencies ("about 6 in 10 of 190 people") are
easier to understand than percentages (Gigerenzer & Hoffrage, Psychol Rev 1995;102:684-704,
doi:10.1037/0033-295X.102.4.684; Akl et al., Cochrane 2011, doi:10.1002/14651858.CD006776.pub2).

Rules:

* the count out of 10 is the percentage rounded half up (65 % → 7), so it is the same
  wherever it is shown;
* a positive rate is never "0 in 10" ("fewer than 1 in 10") and a rate below 100 % is never
  "10 in 10" ("more than 9 in 10");
* the study size is always shown, or said to be missing;
* small (< ``SMALL_GROUP`` people) or selected (retrospective, case series) groups are given
  as a count of people ("about 13 of 24 people") with a plain hedge, never "in 10".
"""

from __future__ import annotations

import math

# Below this many people a rate is given as a count with a hedge, never "about N in 10".
SMALL_GROUP = 50
SELECTED_DESIGNS = frozenset({"retrospective", "case_series"})


def _half_up(value: float) -> int:
    return math.floor(value + 0.5)


def in_ten(pct: float) -> int:
    """The rate as a whole number out of 10, rounded half up (never 0 or 10 unless exact)."""
    if not 0 <= pct <= 100:
        raise ValueError(f"a percentage must be 0-100, got {pct}")
    if pct == 0 or pct == 100:
        return int(pct // 10)
    return min(max(_half_up(pct / 10), 1), 9)


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n:,} people"


def natural_frequency(
    pct: float, n: int | None, *, design: str | None = None, what: str = ""
) -> str:
    """``pct`` % of a study of ``n`` people in words, e.g. "about 6 in 10 of 190 people";
    ``what`` ("responded") follows the count, before any hedge."""
    tail = f" {what}" if what else ""
    k = in_ten(pct)  # validates pct
    small = n is not None and n < SMALL_GROUP
    selected = design in SELECTED_DESIGNS
    if n is not None and (small or selected):
        count = _half_up(pct * n / 100)
        if pct > 0 and count == 0:
            shown = f"fewer than 1 of {_people(n)}"
        elif pct < 100 and count == n:
            shown = f"almost all of {_people(n)}"
        else:
            shown = f"{'all' if count == n else f'about {count} of'} {_people(n)}"
        hedge = (
            "a small group, so the result is less certain"
            if small
            else "people chosen for this treatment, so the result is less certain"
        )
        return f"{shown}{tail} ({hedge})"
    if pct == 0:
        words = "none"
    elif pct == 100:
        words = "all"
    elif pct < 5:
        words = "fewer than 1 in 10"
    elif pct >= 95:
        words = "more than 9 in 10"
    else:
        words = f"about {k} in 10"
    if n is None:
        return f"{words} people{tail} (the study did not report how many took part)"
    return f"{words} of {_people(n)}{tail}"


def _months(value: float) -> str:
    return "1 month" if value == 1 else f"{value:g} months"


# What a median means for each outcome, in words: (reached, not reached)
_MEDIAN_WORDS: dict[str, tuple[str, str]] = {
    "median_pfs_months": (
        "half of people were still free of progression (the myeloma had not grown) at {}",
        "more than half of people were still free of progression when the study last checked",
    ),
    "median_dor_months": (
        "among people whose myeloma responded, half still had that response at {}",
        "among people whose myeloma responded, more than half still had that response "
        "when the study last checked",
    ),
    "median_os_months": (
        "half of people were still alive at {}",
        "more than half of people were still alive when the study last checked",
    ),
}

MEDIAN_FIGURES = tuple(_MEDIAN_WORDS)
SURVIVAL_FIGURES = frozenset({"median_os_months"})
SURVIVAL_FRAMING = (
    "These figures describe groups of people in a study, often treated some years ago and "
    "with other treatments before and since. They cannot say how long any one person will "
    "live, and many people do better or worse than the middle of the group."
)


def median_words(figure: str, value: float | str) -> str:
    """A median (months, or "not_reached") in words: "half of people were ... at 7.7 months"."""
    reached, open_ended = _MEDIAN_WORDS[figure]
    if value == "not_reached":
        return open_ended
    if isinstance(value, str):
        raise ValueError(f"{figure}: expected months or 'not_reached', got {value!r}")
    return reached.format(_months(value))


def patient_figures(
    figures: dict[str, float | str], n: int | None, design: str | None, *, survival: bool
) -> list[str]:
    """A study's figures in plain words (natural frequencies, medians explained); survival
    figures only when ``survival`` (pages show them behind "more detail" with framing)."""
    parts: list[str] = []
    orr = figures.get("orr_pct")
    if isinstance(orr, float | int):
        parts.append(natural_frequency(float(orr), n, design=design, what="responded"))
    cr = figures.get("cr_or_better_pct")
    if isinstance(cr, float | int):
        what = "had no myeloma found in blood tests (complete response or better)"
        parts.append(natural_frequency(float(cr), n, design=design, what=what))
    for key in MEDIAN_FIGURES:
        if key in figures and (survival or key not in SURVIVAL_FIGURES):
            parts.append(median_words(key, figures[key]))
    return parts


_CLINICIAN_LABELS = {
    "orr_pct": "ORR {}%",
    "cr_or_better_pct": "≥CR {}%",
    "median_pfs_months": "mPFS {} mo",
    "median_dor_months": "mDoR {} mo",
    "median_os_months": "mOS {} mo",
}


def clinician_figures(figures: dict[str, float | str]) -> list[str]:
    """A study's figures in the clinician's shorthand ("ORR 72.2%", "mPFS NR")."""
    return [
        template.format("NR" if figures[key] == "not_reached" else f"{figures[key]:g}")
        for key, template in _CLINICIAN_LABELS.items()
        if key in figures
    ]


__all__ = [
    "MEDIAN_FIGURES",
    "SELECTED_DESIGNS",
    "SMALL_GROUP",
    "SURVIVAL_FIGURES",
    "SURVIVAL_FRAMING",
    "clinician_figures",
    "in_ten",
    "median_words",
    "natural_frequency",
    "patient_figures",
]
