"""Realistic benchmark studies: criteria recombined from REAL registry text.

``benchmarks/data/real_criteria.jsonl`` holds 359 distinct criterion texts copied from real
ClinicalTrials.gov records (28 studies: the 27 myeloma records of the project's real-trials
corpus, gathered 2026-12-04 from public mirror pages of ClinicalTrials.gov - see
``../shared/data/real-trials/README.md`` - and the breast-cancer study NCT02513394 from the
API v2 sample). Each line keeps its ``nct_id`` and source file.

Studies are built in the ClinicalTrials.gov v2 shape (so they go through ``Study.from_v2`` and
the store's real import path) with the properties that decide matching cost in the real
registry, measured or estimated from it:

* **distinct criteria**: about 3.6 distinct criterion texts per study (18,000 per 5,000
  studies, the count issue 14 measured on the registry) out of ~25 criteria per study. A new
  criterion is a real one varied the way registries vary: other numbers (thresholds, windows,
  line counts), other units, other drug names from the myeloma vocabulary, two real sentences
  spliced, or a real trailing qualifier appended. Repeats follow popularity (a text already
  used often is picked again more often), as boilerplate does in the registry;
* **sites per study**: many 1-5, a tail of 100-800 (60% one site, 22% 2-5, 10% 6-20,
  6.5% 21-100, 1.5% 100-800; mean about 13, likely above the registry-wide mean, so disk
  figures err on the large side);
* **status**: the mix of myeloma records (about 1 in 4 open: recruiting or not yet);
* **mixed stores**: ``myeloma_share`` of studies are plasma-cell studies; the rest carry
  another condition and criteria from the non-myeloma record with the disease words swapped.

This replaces the generator ``bench_matching.py`` used before issue 14 (the bundled sample
studies with numbers varied: ~1,000 distinct criterion texts in any store size, which made
matching look 60 times cheaper than on registry text). ``bench_trials_store.py`` keeps its
own word-salad generator: it measures search and indexing, and says so.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data") / "real_criteria.jsonl"
NON_MYELOMA_SOURCE = "NCT02513394"

DISTINCT_PER_STUDY = 3.6
CRITERIA_PER_STUDY = (14, 36)

_MM_DRUGS = [
    "teclistamab",
    "elranatamab",
    "talquetamab",
    "linvoseltamab",
    "cevostamab",
    "daratumumab",
    "isatuximab",
    "carfilzomib",
    "bortezomib",
    "ixazomib",
    "pomalidomide",
    "lenalidomide",
    "thalidomide",
    "iberdomide",
    "mezigdomide",
    "selinexor",
    "venetoclax",
    "belantamab mafodotin",
    "elotuzumab",
    "melphalan",
    "cyclophosphamide",
    "ciltacabtagene autoleucel",
    "idecabtagene vicleucel",
    "anitocabtagene autoleucel",
    "dexamethasone",
]
_DRUG_RE = re.compile(r"\b(" + "|".join(re.escape(d) for d in _MM_DRUGS) + r")\b", re.I)
_NUMBER_RE = re.compile(r"(?<![\w.])\d{1,4}(?:\.\d{1,2})?(?![\w.])")
# performance scores and toxicity grades keep their numbers (a varied "ECOG 0-8" is not text a
# registry holds; it is a fuzz case, measured elsewhere)
_SCALES = re.compile(r"ECOG|Karnofsky|performance|grade|Zubrod|WHO|NYHA|stage", re.I)
_UNIT_SWAPS = [
    ("mg/dL", "µmol/L"),
    ("x 10^9/L", "/mm3"),
    ("days", "weeks"),
    ("weeks", "days"),
    ("months", "weeks"),
    ("g/dL", "g/L"),
    ("mL/min", "mL/min/1.73 m2"),
]
_QUALIFIERS = [
    "unless approved by the medical monitor",
    "except for alopecia and grade 1 neuropathy",
    "(patients with prior exposure in cohort B are allowed)",
    "within 14 days before the first dose of study drug",
    "as assessed by the investigator",
    "per IMWG criteria",
    "France specific: patients must be affiliated with social security",
    "e.g. daratumumab or isatuximab",
]
_MYELOMA_WORDS = re.compile(r"multiple myeloma|myeloma|plasma cell", re.I)
OTHER_CONDITIONS = [
    "Breast Cancer",
    "Non-Small Cell Lung Cancer",
    "Diffuse Large B-Cell Lymphoma",
    "Acute Myeloid Leukemia",
    "Type 2 Diabetes",
    "Heart Failure",
    "Asthma",
    "Prostate Cancer",
    "Colorectal Cancer",
    "Major Depressive Disorder",
    "Chronic Kidney Disease",
    "Rheumatoid Arthritis",
]
MYELOMA_CONDITIONS = [
    ["Multiple Myeloma"],
    ["Relapsed/Refractory Multiple Myeloma"],
    ["Multiple Myeloma", "Plasma Cell Leukemia"],
    ["Multiple Myeloma in Relapse"],
    ["Smoldering Multiple Myeloma"],
    ["Newly Diagnosed Multiple Myeloma"],
    ["Refractory Multiple Myeloma"],
]
# status mix of myeloma records on the registry (about 1 in 4 can still enrol)
STATUSES = (
    ["RECRUITING"] * 17
    + ["NOT_YET_RECRUITING"] * 5
    + ["ACTIVE_NOT_RECRUITING"] * 9
    + ["COMPLETED"] * 43
    + ["TERMINATED"] * 10
    + ["WITHDRAWN"] * 3
    + ["UNKNOWN"] * 13
)
PHASES = [["PHASE1"], ["PHASE2"], ["PHASE1", "PHASE2"], ["PHASE3"], ["PHASE4"], []]
US_CITIES = [
    ("New York", "New York", 40.71427, -74.00597),
    ("Houston", "Texas", 29.76328, -95.36327),
    ("Boston", "Massachusetts", 42.35843, -71.05977),
    ("Seattle", "Washington", 47.60621, -122.33207),
    ("Chicago", "Illinois", 41.85003, -87.65005),
    ("Los Angeles", "California", 34.05223, -118.24368),
    ("Atlanta", "Georgia", 33.749, -84.38798),
    ("Denver", "Colorado", 39.73915, -104.9847),
    ("Miami", "Florida", 25.77427, -80.19366),
    ("Rochester", "Minnesota", 44.02163, -92.4699),
    ("Nashville", "Tennessee", 36.16589, -86.78444),
    ("Philadelphia", "Pennsylvania", 39.95233, -75.16379),
]


@dataclass(frozen=True)
class RealCriterion:
    nct_id: str
    section: str
    text: str
    source: str


@lru_cache(maxsize=1)
def real_criteria() -> tuple[RealCriterion, ...]:
    """The committed real criterion texts, with provenance."""
    rows = []
    with DATA.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                rows.append(RealCriterion(d["nct_id"], d["section"], d["text"], d["source"]))
    return tuple(rows)


def site_count(rng: random.Random) -> int:
    """Sites per study: many 1-5, a tail of 100-800."""
    u = rng.random()
    if u < 0.60:
        return 1
    if u < 0.82:
        return rng.randint(2, 5)
    if u < 0.92:
        return rng.randint(6, 20)
    if u < 0.985:
        return rng.randint(21, 100)
    return rng.randint(100, 800)


class CriteriaPool:
    """Criterion texts for one section: new variants of real text, repeats by popularity."""

    def __init__(self, seeds: list[str], rng: random.Random, new_share: float) -> None:
        self.seeds = seeds
        self.rng = rng
        self.new_share = new_share
        self.used: list[str] = []  # one entry per use: picking from it favours popular texts
        self.distinct: set[str] = set()

    def _vary(self, text: str) -> str:
        rng = self.rng
        how = rng.random()
        if how < 0.35 and not _SCALES.search(text):
            return _NUMBER_RE.sub(lambda m: _other_number(m.group(0), rng), text, count=2)
        if how < 0.55:
            if _DRUG_RE.search(text):
                return _DRUG_RE.sub(lambda m: rng.choice(_MM_DRUGS), text, count=1)
            return f"{text.rstrip('.')} {rng.choice(_QUALIFIERS)}"
        if how < 0.70:
            for a, b in rng.sample(_UNIT_SWAPS, len(_UNIT_SWAPS)):
                if a in text:
                    return text.replace(a, b, 1)
            if not _SCALES.search(text):
                return _NUMBER_RE.sub(lambda m: _other_number(m.group(0), rng), text, count=1)
        if how < 0.85:
            other = rng.choice(self.seeds)
            head = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].rstrip(".;")
            tail = re.split(r"(?<=[.;])\s", other, maxsplit=1)[0]
            return f"{head}; {tail[:1].lower()}{tail[1:]}"
        return f"{text.rstrip('.')} {rng.choice(_QUALIFIERS)}"

    def pick(self) -> str:
        rng = self.rng
        if self.used and rng.random() >= self.new_share:
            return rng.choice(self.used)
        base = rng.choice(self.used) if self.used and rng.random() < 0.5 else None
        text = self._vary(base or rng.choice(self.seeds))
        for _ in range(5):
            if text not in self.distinct:
                break
            text = self._vary(text)
        self.distinct.add(text)
        self.used.append(text)
        return text


def _other_number(value: str, rng: random.Random) -> str:
    x = float(value)
    y = x * rng.choice([0.5, 0.75, 1.5, 2.0]) + rng.choice([0, 1, 2, 5])
    return f"{y:.1f}" if "." in value else str(max(0, round(y)))


class StudyFactory:
    """Seeded v2 records. ``myeloma_share`` of studies are plasma-cell studies."""

    def __init__(self, seed: int = 14, myeloma_share: float = 1.0) -> None:
        self.rng = random.Random(seed)
        self.myeloma_share = myeloma_share
        real = real_criteria()
        mm = [r for r in real if r.nct_id != NON_MYELOMA_SOURCE]
        other = [r for r in real if r.nct_id == NON_MYELOMA_SOURCE]
        mean = sum(CRITERIA_PER_STUDY) / 2
        share = DISTINCT_PER_STUDY / mean
        self.pools = {
            ("mm", "inclusion"): CriteriaPool(
                [r.text for r in mm if r.section == "inclusion"], self.rng, share
            ),
            ("mm", "exclusion"): CriteriaPool(
                [r.text for r in mm if r.section == "exclusion"], self.rng, share
            ),
            ("other", "inclusion"): CriteriaPool(
                [r.text for r in other] + [_MYELOMA_WORDS.sub("cancer", r.text) for r in mm],
                self.rng,
                share,
            ),
            ("other", "exclusion"): CriteriaPool(
                [_MYELOMA_WORDS.sub("cancer", r.text) for r in mm if r.section == "exclusion"],
                self.rng,
                share,
            ),
        }
        self.summaries = [r.text for r in real]

    def distinct_criteria(self) -> int:
        return sum(len(p.distinct) for p in self.pools.values())

    def _criteria(self, kind: str) -> str:
        rng = self.rng
        n = rng.randint(*CRITERIA_PER_STUDY)
        n_excl = round(n * rng.uniform(0.35, 0.6))
        inc = [self.pools[(kind, "inclusion")].pick() for _ in range(n - n_excl)]
        exc = [self.pools[(kind, "exclusion")].pick() for _ in range(n_excl)]
        return (
            "Inclusion Criteria:\n\n"
            + "\n".join(f"* {t}" for t in dict.fromkeys(inc))
            + "\n\nExclusion Criteria:\n\n"
            + "\n".join(f"* {t}" for t in dict.fromkeys(exc))
        )

    def _locations(self, status: str) -> list[dict[str, Any]]:
        rng = self.rng
        out = []
        for i in range(site_count(rng)):
            city, state, lat, lon = rng.choice(US_CITIES)
            site_status = "RECRUITING" if status == "RECRUITING" and rng.random() < 0.8 else None
            loc: dict[str, Any] = {
                "facility": f"{city} Cancer Center {i}",
                "city": city,
                "state": state,
                "zip": f"{rng.randint(10000, 99999)}",
                "country": "United States",
                "geoPoint": {
                    "lat": round(lat + rng.uniform(-0.5, 0.5), 5),
                    "lon": round(lon + rng.uniform(-0.5, 0.5), 5),
                },
            }
            if site_status:
                loc["status"] = site_status
            out.append(loc)
        return out

    def record(self, i: int) -> dict[str, Any]:
        rng = self.rng
        myeloma = rng.random() < self.myeloma_share
        kind = "mm" if myeloma else "other"
        conditions = rng.choice(MYELOMA_CONDITIONS) if myeloma else [rng.choice(OTHER_CONDITIONS)]
        drugs = rng.sample(_MM_DRUGS, rng.randint(1, 3)) if myeloma else ["Investigational agent"]
        status = rng.choice(STATUSES)
        title = f"{' and '.join(d.title() for d in drugs)} in {conditions[0]} ({i})"
        summary = " ".join(rng.sample(self.summaries, 6))
        return {
            "protocolSection": {
                "identificationModule": {"nctId": f"NCT{20_000_000 + i:08d}", "briefTitle": title},
                "statusModule": {
                    "overallStatus": status,
                    "lastUpdatePostDateStruct": {"date": f"20{rng.randint(10, 26)}-06-01"},
                },
                "conditionsModule": {"conditions": conditions},
                "designModule": {"studyType": "INTERVENTIONAL", "phases": rng.choice(PHASES)},
                "descriptionModule": {"briefSummary": summary},
                "armsInterventionsModule": {
                    "interventions": [{"type": "DRUG", "name": d.title()} for d in drugs]
                },
                "eligibilityModule": {
                    "eligibilityCriteria": self._criteria(kind),
                    "minimumAge": "18 Years",
                    "sex": "ALL",
                    **({"maximumAge": "75 Years"} if rng.random() < 0.15 else {}),
                },
                "contactsLocationsModule": {"locations": self._locations(status)},
            }
        }

    def records(self, n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield self.record(i)


def write_jsonl(path: Path, n: int, seed: int = 14, myeloma_share: float = 1.0) -> int:
    """Write ``n`` records, one JSON per line; the number of distinct criterion texts."""
    factory = StudyFactory(seed, myeloma_share)
    with path.open("w", encoding="utf-8") as fh:
        for rec in factory.records(n):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return factory.distinct_criteria()


__all__ = ["StudyFactory", "real_criteria", "site_count", "write_jsonl"]
