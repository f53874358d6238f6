"""Trial categories read from the registry record."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from myelonav.samples import sample_profiles
from myelonav.trials.categories import categorise, labels_of
from myelonav.trials.matching import match_study, matcher_for
from myelonav.trials.models import Study

SHARED = Path("/work/shared/data/mm-trials/trials")


def study(title: str, interventions: list[dict[str, Any]], conditions: list[str]) -> Study:
    return Study.from_v2(
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT99999902", "briefTitle": title},
                "conditionsModule": {"conditions": conditions},
                "armsInterventionsModule": {"interventions": interventions},
                "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n* Age >= 18"},
            }
        }
    )


def test_autologous_bcma_car_t_for_relapsed_disease() -> None:
    c = categorise(
        study(
            "Autologous anti-BCMA CAR T cells in relapsed/refractory multiple myeloma",
            [{"type": "BIOLOGICAL", "name": "ciltacabtagene autoleucel"}],
            ["Relapsed Refractory Multiple Myeloma"],
        )
    )
    assert "car_t" in c.modalities and "car_t_autologous" in c.modalities
    assert "car_t_allogeneic" not in c.modalities
    assert "BCMA" in c.targets
    assert c.settings == ("relapsed",)


def test_allogeneic_dual_target_and_switchable_car_t() -> None:
    c = categorise(
        study(
            "Off-the-shelf allogeneic BCMA/GPRC5D dual-target CAR-T with a safety switch",
            [{"type": "BIOLOGICAL", "name": "UCART-X"}],
            ["Multiple Myeloma"],
        )
    )
    assert {"car_t", "car_t_allogeneic", "car_t_dual_target", "car_t_switchable"} <= set(
        c.modalities
    )
    assert {"BCMA", "GPRC5D"} <= set(c.targets)


@pytest.mark.parametrize(
    ("name", "title", "modality", "target"),
    [
        ("talquetamab", "Talquetamab after BCMA CAR T", "bispecific", "GPRC5D"),
        ("cevostamab", "Cevostamab in myeloma", "bispecific", "FcRH5"),
        ("JNJ-79635322", "A BCMA x GPRC5D x CD3 trispecific antibody", "trispecific", "GPRC5D"),
        ("mezigdomide", "Mezigdomide (CELMoD) with dexamethasone", "celmod", None),
        ("belantamab mafodotin", "Belantamab mafodotin, an antibody-drug conjugate", "adc", "BCMA"),
    ],
)
def test_modalities_and_targets(name: str, title: str, modality: str, target: str | None) -> None:
    c = categorise(study(title, [{"type": "DRUG", "name": name}], ["Multiple Myeloma"]))
    assert modality in c.modalities, c
    if target:
        assert target in c.targets, c
    if modality == "trispecific":
        assert "bispecific" not in c.modalities


def test_retreatment_and_newly_diagnosed() -> None:
    c = categorise(
        study(
            "Retreatment with cilta-cel in newly diagnosed multiple myeloma",
            [{"type": "BIOLOGICAL", "name": "cilta-cel"}],
            ["Newly Diagnosed Multiple Myeloma"],
        )
    )
    assert "retreatment" in c.modalities
    assert c.settings == ("newly_diagnosed",)


def test_nothing_stated_means_no_category() -> None:
    c = categorise(study("Exercise during treatment", [], ["Multiple Myeloma"]))
    assert c.modalities == () and c.targets == () and c.settings == ()
    assert labels_of([c]) == []


def test_categories_are_in_the_match_json() -> None:
    record = sample_profiles()[0]
    s = study(
        "Talquetamab in relapsed myeloma",
        [{"type": "DRUG", "name": "talquetamab"}],
        ["Multiple Myeloma"],
    )
    out = match_study(matcher_for(record, dt.date(2026, 11, 1)), s).as_dict()
    assert out["categories"]["modalities"] == ["bispecific"]
    assert out["categories"]["targets"] == ["GPRC5D"]


@pytest.mark.skipif(not SHARED.exists(), reason="shared set /work/shared/data/mm-trials absent")
def test_shared_trials_get_categories() -> None:
    studies = [Study.from_v2(json.loads(p.read_text("utf-8"))) for p in SHARED.glob("*.json")]
    labels = labels_of(categorise(s) for s in studies)
    assert "car_t" in labels and "bispecific" in labels


def test_a_prior_therapy_in_the_title_is_not_the_studys_target() -> None:
    from myelonav.trials.categories import _categorise

    cats = _categorise(
        "GPRC5D-Directed CAR T Cells After Prior BCMA-Directed Therapy in Relapsed Myeloma",
        "",
        ("Multiple Myeloma",),
        (),
        (),
    )
    assert cats.targets == ("GPRC5D",)
    assert "car_t_dual_target" not in cats.modalities
    both = _categorise("BCMA/GPRC5D Dual-Target CAR T in Relapsed Myeloma", "", (), (), ())
    assert {"BCMA", "GPRC5D"} <= set(both.targets)


def test_prior_kinds_of_treatment_in_the_title_are_not_the_studys_kind() -> None:
    from myelonav.trials.categories import _categorise

    pill = _categorise("Oral CELMoD Mezigdomide With Dexamethasone After CAR T or Bispecific "
                       "Antibody Therapy", "", ("Multiple Myeloma",), (), ())
    assert pill.modalities == ("celmod",)
    after = _categorise("Talquetamab for Myeloma That Progressed After Prior CAR T-Cell Therapy",
                        "", (), (), ())
    assert "car_t" not in after.modalities
    # a CAR T study given after a bispecific is still a CAR T study
    cart = _categorise("GPRC5D CAR T Cells After Bispecific Antibody Therapy", "", (), (), ())
    assert "car_t" in cart.modalities and "bispecific" not in cart.modalities
