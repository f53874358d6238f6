"""XML attacks are refused fast, and any mutated document gives a record or a clear error."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from myelonav.errors import ImportError_, MyelonavError
from myelonav.patient.ccda import import_ccda, looks_like_xml
from myelonav.patient.ccda._fuzz import MUTATIONS, cases
from myelonav.patient.ccda._xml import MAX_DEPTH, parse_xml
from myelonav.patient.profile_io import dump_profile, parse_profile_text

DATA = Path(__file__).parent / "data"
SEEDS = [p.read_bytes() for p in sorted(DATA.glob("*.xml"))]
AS_OF = dt.date(2026, 11, 25)


def _timed_refusal(raw: bytes) -> float:
    start = time.perf_counter()
    with pytest.raises(ImportError_):
        import_ccda(raw, source="attack.xml", as_of=AS_OF)
    return time.perf_counter() - start


@pytest.mark.parametrize("attack", ["entities", "quadratic", "external"])
def test_entity_and_dtd_attacks_are_refused_in_under_a_second(attack: str) -> None:
    import random

    for seed in range(3):
        raw = MUTATIONS[attack](random.Random(seed), SEEDS[0])
        assert _timed_refusal(raw) < 1.0


def test_billion_laughs_message_says_why() -> None:
    import random

    raw = MUTATIONS["entities"](random.Random(0), SEEDS[0])
    with pytest.raises(ImportError_, match="DTDs, entities and external references"):
        import_ccda(raw, source="bomb.xml")


def test_deep_nesting_is_refused_without_building_it() -> None:
    depth = 200_000
    raw = b'<ClinicalDocument xmlns="urn:hl7-org:v3">' + b"<a>" * depth + b"</a>" * depth
    raw += b"</ClinicalDocument>"
    start = time.perf_counter()
    with pytest.raises(ImportError_, match=f"deeper than {MAX_DEPTH}"):
        parse_xml(raw, "deep.xml")
    assert time.perf_counter() - start < 1.0


def test_malformed_xml_names_line_and_column() -> None:
    with pytest.raises(ImportError_, match=r"line 2, column"):
        parse_xml(b"<ClinicalDocument>\n<a></b></ClinicalDocument>", "bad.xml")


def test_unknown_encoding_is_a_clear_error() -> None:
    # found by benchmarks/fuzz_ccda.py: a flipped byte in the declaration ("UTFW8")
    with pytest.raises(ImportError_, match="encoding that does not exist"):
        parse_xml(b'<?xml version="1.0" encoding="UTFW8"?><ClinicalDocument/>', "enc.xml")
    with pytest.raises(ImportError_):
        parse_xml(b'<?xml version="1.0" encoding="UTF-16"?><ClinicalDocument/>', "enc.xml")


def test_looks_like_xml() -> None:
    assert looks_like_xml(b"\xef\xbb\xbf  <?xml version='1.0'?><a/>")
    assert not looks_like_xml(b'{"resourceType": "Bundle"}')


def test_fuzz_slice_never_crashes_hangs_or_writes_an_unreadable_profile() -> None:
    """A deterministic slice of benchmarks/fuzz_ccda.py: 300 mutated documents."""
    imported = refused = 0
    for name, raw in cases(SEEDS, 300, seed=17):
        start = time.process_time()  # CPU time: a busy shared machine does not inflate it
        try:
            report = import_ccda(raw, source="fuzz.xml", as_of=AS_OF)
        except MyelonavError as exc:
            assert exc.location, f"{name}: error without a location: {exc}"
            refused += 1
        else:
            imported += 1
            text = dump_profile(report.record)
            assert parse_profile_text(text, "again").model_dump() == report.record.model_dump()
        elapsed = time.process_time() - start
        assert elapsed < 1.0, f"{name} took {elapsed:.2f} s of CPU"
    assert imported > 0 and refused > 0  # the grammar reaches both outcomes
