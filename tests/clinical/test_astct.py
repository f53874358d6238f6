"""ASTCT consensus grading (Lee et al., Biol Blood Marrow Transplant 2019;25:625-38)."""

from __future__ import annotations

import pytest

from myelonav.clinical.astct import (
    Consciousness,
    Edema,
    Hypotension,
    IceItems,
    Motor,
    OxygenSupport,
    Seizure,
    crs_grade,
    icans_grade,
    ice_grade,
    oxygen_from_flow,
)
from myelonav.errors import InputError


def test_crs_table() -> None:
    assert crs_grade(max_temperature_c=37.9).grade == 0
    assert crs_grade(max_temperature_c=38.0).grade == 1
    assert crs_grade(max_temperature_c=38.5, hypotension=Hypotension.no_vasopressor).grade == 2
    assert crs_grade(max_temperature_c=38.5, oxygen=OxygenSupport.blow_by).grade == 2
    assert crs_grade(max_temperature_c=39, hypotension=Hypotension.one_vasopressor).grade == 3
    assert crs_grade(max_temperature_c=39, oxygen=OxygenSupport.venturi).grade == 3
    assert crs_grade(max_temperature_c=39, oxygen=OxygenSupport.positive_pressure).grade == 4
    assert crs_grade(max_temperature_c=39,
                     hypotension=Hypotension.multiple_vasopressors).grade == 4


def test_crs_most_severe_event_wins_and_fever_rules() -> None:
    g = crs_grade(max_temperature_c=38.3, hypotension=Hypotension.no_vasopressor,
                  oxygen=OxygenSupport.high_flow_nasal_cannula)
    assert g.grade == 3
    # without fever there is no CRS, unless fever was masked by tocilizumab/steroids
    assert crs_grade(max_temperature_c=37.2, hypotension=Hypotension.one_vasopressor).grade == 0
    masked = crs_grade(max_temperature_c=37.2, hypotension=Hypotension.one_vasopressor,
                       fever_masked=True)
    assert masked.grade == 3
    assert crs_grade(max_temperature_c=None, fever_masked=True).grade == 0
    with pytest.raises(InputError, match="temperature"):
        crs_grade(max_temperature_c=None)


def test_oxygen_flow_boundary() -> None:
    assert oxygen_from_flow(6) is OxygenSupport.low_flow_nasal_cannula
    assert oxygen_from_flow(6.5) is OxygenSupport.high_flow_nasal_cannula
    assert oxygen_from_flow(0) is OxygenSupport.none


def test_ice_score_items() -> None:
    full = IceItems(True, True, True, True, 3, True, True, True)
    assert full.score() == 10
    partial = IceItems(True, False, True, False, 2, True, False, False)
    assert partial.score() == 5
    with pytest.raises(InputError):
        IceItems(True, True, True, True, 4, True, True, True).score()


def test_ice_grade_bands() -> None:
    assert [ice_grade(i) for i in range(11)] == [3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 0]
    with pytest.raises(InputError):
        ice_grade(11)


def test_icans_most_severe_domain() -> None:
    assert icans_grade(ice=10).grade == 0
    assert icans_grade(ice=8, consciousness=Consciousness.awakens_spontaneously).grade == 1
    assert icans_grade(ice=9, consciousness=Consciousness.awakens_to_voice).grade == 2
    # the paper's example: ICE 3 with a generalised seizure is grade 3
    assert icans_grade(ice=3, seizure=Seizure.resolved_rapidly).grade == 3
    assert icans_grade(ice=7, edema=Edema.focal).grade == 3
    assert icans_grade(ice=7, seizure=Seizure.prolonged).grade == 4
    assert icans_grade(ice=6, motor=Motor.deep_focal_weakness).grade == 4
    assert icans_grade(ice=5, edema=Edema.diffuse).grade == 4
    # ICE 0: awake with global aphasia is grade 3; unarousable is grade 4
    assert icans_grade(ice=0).grade == 3
    assert icans_grade(ice=0, consciousness=Consciousness.unarousable).grade == 4
    assert icans_grade(ice=None, consciousness=Consciousness.unarousable).grade == 4
    with pytest.raises(InputError, match="ICE"):
        icans_grade(ice=None)
