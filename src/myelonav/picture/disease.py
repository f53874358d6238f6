"""Disease state: sites of disease with their activity, measurable disease, CAR T outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from myelonav.clinical.imwg import Path, assessments_from_record, build_baseline, involved_chain
from myelonav.errors import MyelonavError
from myelonav.patient.models import (
    Analyte,
    CarTEpisode,
    DiseaseSite,
    DiseaseSiteKind,
    LabResult,
    PatientRecord,
    SiteNotFound,
)
from myelonav.patient.summary import CURRENT_LAB_DAYS
from myelonav.picture.car_t import CarTOutcome, car_t_outcome
from myelonav.picture.sheet import FactSheet

# IMWG 2021 definition of plasma-cell leukaemia: >= 5 % circulating plasma cells
# (Fernández de Larrea et al., Blood Cancer J 2021;11:192, doi:10.1038/s41408-021-00587-0).
PCL_CIRCULATING_PCT = 5.0

_LESION_KINDS = (
    DiseaseSiteKind.bone_lesion,
    DiseaseSiteKind.paraskeletal_plasmacytoma,
    DiseaseSiteKind.extramedullary_plasmacytoma,
)
_PATH_PLAIN = {
    Path.m_protein: "the M-protein in blood or urine",
    Path.flc: "the free light chains in blood",
    Path.marrow: "the plasma cells in the bone marrow",
}


def _where(site: DiseaseSite) -> str:
    return site.location or site.kind.value.replace("_", " ")


def _site_fact(
    sheet: FactSheet,
    name: str,
    sites: Sequence[DiseaseSite],
    checks: Sequence[SiteNotFound],
    kinds: tuple[DiseaseSiteKind, ...],
    label: str,
    plain_label: str,
) -> None:
    """True on an active site; false only when the record says so (looked for and not
    found, or the sites recorded are no longer active); else unknown. A record that never
    mentions the site is silent, not "no"."""
    hits = [s for s in sites if s.kind in kinds]
    active = [s for s in hits if s.active is True]
    unsure = [s for s in hits if s.active is None]
    looked = [c for c in checks if c.kind in kinds]
    if active:
        where = ", ".join(_where(s) for s in active)
        sheet.set(name, True, f"{label}: {where}", f"Your record shows {plain_label} ({where}).")
    elif unsure:
        where = ", ".join(_where(s) for s in unsure)
        sheet.unknown(
            name,
            f"{label} recorded ({where}) but whether it is active now is unknown",
            f"Your record mentions {plain_label} ({where}) but not whether it is active now.",
        )
    elif looked:
        when = max((c.date for c in looked if c.date is not None), default=None)
        on = f" ({when})" if when else ""
        sheet.set(
            name,
            False,
            f"{label} looked for and not found{on}",
            f"Your record says there is no {plain_label}{on}.",
        )
    elif hits:
        where = ", ".join(_where(s) for s in hits)
        sheet.set(
            name,
            False,
            f"{label} recorded ({where}) and no longer active",
            f"Your record says the {plain_label} ({where}) is no longer active.",
        )
    else:
        sheet.unknown(
            name,
            f"whether there is {label} is not recorded",
            f"Whether there is {plain_label} is not in your record yet: ask your care team.",
        )


def disease_facts(
    record: PatientRecord,
    as_of: dt.date,
    episodes: Sequence[CarTEpisode],
    current: dict[Analyte, LabResult],
    sheet: FactSheet,
) -> CarTOutcome | None:
    outcome = _car_t_facts(record, as_of, episodes, sheet)
    sites = [s for s in record.disease_sites if s.date is None or s.date <= as_of]
    live = [s for s in sites if s.active is not False]
    checks = [c for c in record.sites_not_found if c.date is None or c.date <= as_of]
    _site_fact(
        sheet,
        "extramedullary_disease",
        sites,
        checks,
        (DiseaseSiteKind.extramedullary_plasmacytoma,),
        "extramedullary disease",
        "myeloma outside the bones",
    )
    _site_fact(
        sheet,
        "cns_disease",
        sites,
        checks,
        (DiseaseSiteKind.cns,),
        "CNS disease",
        "myeloma in the brain or spinal fluid",
    )
    _pcl_fact(sheet, sites, checks, current.get(Analyte.circulating_plasma_cells))
    lesions = [s for s in live if s.kind in _LESION_KINDS]
    painful_known = [s for s in lesions if s.painful and s.active is True]
    painful_unsure = [s for s in lesions if s.painful and s.active is None]
    if painful_known:
        where = ", ".join(_where(s) for s in painful_known)
        sheet.set(
            "painful_bone_lesion",
            True,
            f"painful lesion: {where}",
            f"You have a painful spot of myeloma ({where}).",
        )
    elif painful_unsure or any(s.painful is None for s in lesions):
        sheet.unknown(
            "painful_bone_lesion",
            "a lesion is recorded but whether it is active and painful is not",
        )
    elif not sites:
        # no imaging findings at all: the record cannot say there is no lesion
        sheet.unknown(
            "painful_bone_lesion",
            "no imaging findings (bone lesions, plasmacytomas) in the record",
            "Your record has no scan results.",
        )
    else:
        sheet.set("painful_bone_lesion", False, "no painful lesion recorded")
    cord = [s for s in live if s.cord_compression]
    if cord:
        sheet.set(
            "cord_compression",
            True,
            "spinal cord compression: " + ", ".join(_where(s) for s in cord),
        )
    elif not sites or any(s.cord_compression is None for s in lesions):
        sheet.unknown(
            "cord_compression", "whether a lesion presses on the spinal cord is not recorded"
        )
    else:
        sheet.set("cord_compression", False, "no spinal cord compression recorded")
    _single_site(sheet, [s for s in live if s.active is True], outcome, any_site=bool(sites))
    _measurable(record, as_of, episodes, sheet)
    return outcome


def _pcl_fact(
    sheet: FactSheet,
    sites: Sequence[DiseaseSite],
    checks: Sequence[SiteNotFound],
    cpc: LabResult | None,
) -> None:
    """Plasma-cell leukaemia: recorded, or >= 5 % circulating plasma cells (IMWG 2021).
    False only on a current count below 5 % or a recorded "not found"; no count is unknown."""
    pcl = [s for s in sites if s.kind is DiseaseSiteKind.plasma_cell_leukemia]
    looked = [c for c in checks if c.kind is DiseaseSiteKind.plasma_cell_leukemia]
    name = "plasma_cell_leukemia"
    if any(s.active is not False for s in pcl):
        sheet.set(
            name,
            True,
            "plasma-cell leukaemia recorded",
            "Your record shows plasma cell leukemia (myeloma cells in the blood).",
        )
    elif cpc is not None and cpc.value is not None and cpc.value >= PCL_CIRCULATING_PCT:
        sheet.set(
            name,
            True,
            f"{cpc.value:g}% circulating plasma cells on {cpc.date} (>= 5%, IMWG 2021)",
        )
    elif cpc is not None and cpc.value is not None:
        sheet.set(
            name,
            False,
            f"{cpc.value:g}% circulating plasma cells on {cpc.date} (< 5%, IMWG 2021)",
        )
    elif looked or pcl:
        sheet.set(
            name, False, "plasma-cell leukaemia looked for and not found, or no longer active"
        )
    else:
        sheet.unknown(
            name,
            "no current circulating plasma-cell count (blood smear or flow cytometry) and no "
            "plasma-cell leukaemia recorded",
            "Whether myeloma cells are in the blood (plasma cell leukemia) is not in your "
            "record yet: ask your care team.",
        )


def _single_site(
    sheet: FactSheet,
    active: Sequence[DiseaseSite],
    outcome: CarTOutcome | None,
    *,
    any_site: bool,
) -> None:
    if not active and not any_site:
        sheet.unknown(
            "single_site_progression",
            "no imaging findings in the record, so whether progression is at one site is not known",
        )
    elif not active:
        sheet.set("single_site_progression", False, "no active site of disease recorded")
    elif len(active) == 1 and outcome is not None and outcome.biochemical_progression is False:
        sheet.set(
            "single_site_progression",
            True,
            f"one active site ({_where(active[0])}) without rising blood markers",
        )
    elif len(active) > 1 or (outcome is not None and outcome.biochemical_progression):
        sheet.set(
            "single_site_progression",
            False,
            "progression is in the blood markers or at more than one site",
        )
    else:
        sheet.unknown(
            "single_site_progression",
            "whether progression is local or systemic is not clear from the record",
        )


def _measurable(
    record: PatientRecord, as_of: dt.date, episodes: Sequence[CarTEpisode], sheet: FactSheet
) -> None:
    since = as_of - dt.timedelta(days=CURRENT_LAB_DAYS)
    windows = [("measurable_disease", since, as_of, f"within {CURRENT_LAB_DAYS} days of {as_of}")]
    if episodes:
        infusion = episodes[-1].infusion_date
        windows.append(
            (
                "measurable_at_car_t_baseline",
                infusion - dt.timedelta(days=CURRENT_LAB_DAYS),
                infusion,
                f"before {episodes[-1].product} on {infusion}",
            )
        )
    for name, start, end, when in windows:
        try:
            found = assessments_from_record(record, start=start, end=end)
            base = build_baseline(found, end, involved_chain(record)) if found else None
        except MyelonavError as exc:
            sheet.unknown(name, f"measurable disease not decided: {exc}")
            continue
        if base is None or not base.has_any:
            sheet.unknown(
                name,
                f"no serum/urine M-protein, free light chains or marrow {when}",
                "Recent myeloma blood or urine tests are not in your record.",
            )
        elif base.path is Path.none:
            sheet.set(
                name,
                False,
                f"no measurable disease by IMWG thresholds {when}",
                "Your recent myeloma tests are below the level trials can measure.",
            )
        else:
            sheet.set(
                name,
                True,
                f"measurable disease by {base.path.value} {when}",
                f"Your myeloma can be measured by {_PATH_PLAIN[base.path]}.",
            )
    if not episodes:
        sheet.unknown("measurable_at_car_t_baseline", "no CAR T infusion in the record")


def _car_t_facts(
    record: PatientRecord, as_of: dt.date, episodes: Sequence[CarTEpisode], sheet: FactSheet
) -> CarTOutcome | None:
    if not episodes:
        why = "no CAR T infusion in the record"
        for name in (
            "car_t_relapse_class",
            "months_since_car_t_infusion",
            "car_t_target",
            "bcma_status_at_relapse",
            "car_t_crs_max_grade",
            "car_t_icans_max_grade",
        ):
            sheet.unknown(name, why, "No CAR T is recorded.")
        return None
    episode = episodes[-1]
    outcome = car_t_outcome(record, episode, as_of)
    months = round((as_of - episode.infusion_date).days / 30.4375, 1)
    sheet.set(
        "months_since_car_t_infusion",
        months,
        f"{episode.product} infused {episode.infusion_date}, {months} months before {as_of}",
        f"Your CAR T was about {months:.0f} months ago.",
    )
    if outcome.relapse_class is None:
        sheet.unknown("car_t_relapse_class", outcome.explanation)
    else:
        sheet.set("car_t_relapse_class", outcome.relapse_class, outcome.explanation)
    if episode.target_antigen:
        sheet.set(
            "car_t_target",
            episode.target_antigen,
            f"{episode.product} targets {episode.target_antigen}",
        )
    else:
        sheet.unknown("car_t_target", f"target of {episode.product} not known")
    bcma = [c for c in episodes if c.target_antigen == "BCMA"]
    status = next(
        (
            c.antigen_status_at_relapse
            for c in reversed(bcma)
            if c.antigen_status_at_relapse is not None
        ),
        None,
    )
    if status is None:
        sheet.unknown(
            "bcma_status_at_relapse",
            "BCMA status at relapse is not in the record",
            "Whether your myeloma still has BCMA was not tested or is not recorded.",
        )
    else:
        sheet.set("bcma_status_at_relapse", status.value, f"BCMA at relapse: {status.value}")
    for name, grade, label in (
        ("car_t_crs_max_grade", episode.crs_max_grade, "CRS"),
        ("car_t_icans_max_grade", episode.icans_max_grade, "ICANS"),
    ):
        if grade is None:
            sheet.unknown(name, f"worst {label} grade after CAR T not recorded")
        else:
            sheet.set(name, grade, f"worst {label} grade {grade} after {episode.product}")
    return outcome


__all__ = ["PCL_CIRCULATING_PCT", "disease_facts"]
