"""A plain-language summary of one trial for one patient: what is tested, what it asks of
you, where, whom to contact, and why we think you may or may not qualify.

Written for patients (short sentences, everyday words). Nothing here is a new medical figure:
logistics come from the study record, or from myelonav's curated evidence base for approved
drugs of the same kind (and say so).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from myelonav import DISCLAIMER
from myelonav.knowledge.loader import bundled_options
from myelonav.trials.matching import Result, TrialMatch, Verdict
from myelonav.trials.models import Study
from myelonav.trials.ranking import RankedTrial, study_classes

_CLASS_WORDS = {
    "car_t": "CAR T-cell therapy (your own immune cells, changed in a lab to attack myeloma)",
    "bispecific": "a bispecific antibody (a drug that links your immune cells to myeloma cells)",
    "adc": "an antibody-drug conjugate (an antibody that carries a drug to myeloma cells)",
    "celmod": "a CELMoD pill (a newer relative of lenalidomide and pomalidomide)",
    "xpo1_inhibitor": "selinexor-type pills (they block a protein myeloma cells need)",
    "bcl2_inhibitor": "a BCL-2 blocker (venetoclax-type pills)",
    "proteasome_inhibitor": "a proteasome inhibitor (like bortezomib or carfilzomib)",
    "imid": "an immunomodulatory drug (like lenalidomide or pomalidomide)",
    "anti_cd38": "an anti-CD38 antibody (like daratumumab or isatuximab)",
}
_TARGET_WORDS = {
    "bcma_directed": "BCMA",
    "gprc5d_directed": "GPRC5D",
    "fcrh5_directed": "FcRH5",
}
_VERDICT_WORDS = {
    Verdict.likely_eligible: "You likely qualify, based on what is in your record.",
    Verdict.possibly_eligible: "You might qualify. Some things need to be checked first.",
    Verdict.likely_ineligible: "You likely do not qualify for this trial.",
}


class TrialSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nct_id: str
    title: str
    sample: bool
    what_is_tested: str
    what_it_asks: list[str]
    where: str
    contact: list[str]
    fit: str
    reasons: list[str]
    to_find_out: list[str]
    ask_study_team: list[str]
    url: str
    disclaimer: str = DISCLAIMER

    def as_text(self) -> str:
        lines = [f"{self.title} ({self.nct_id})"]
        if self.sample:
            lines.append("SAMPLE: a made-up study for trying myelonav. It is not a real trial.")
        lines += [f"What is tested: {self.what_is_tested}", f"Fit: {self.fit}"]
        lines += [f"  - {r}" for r in self.reasons]
        if self.to_find_out:
            lines.append("To find out first:")
            lines += [f"  - {r}" for r in self.to_find_out]
        lines.append("What it asks of you:")
        lines += [f"  - {a}" for a in self.what_it_asks]
        lines += [
            f"Where: {self.where}",
            "Contact: " + ("; ".join(self.contact) or "see the study page"),
        ]
        if self.ask_study_team:
            lines.append("Ask the study team about:")
            lines += [f"  - {a}" for a in self.ask_study_team]
        lines += [f"More: {self.url}", self.disclaimer]
        return "\n".join(lines)


def _tested(study: Study) -> str:
    classes = study_classes(study)
    names = [
        i.name
        for i in study.interventions
        if (i.type or "").upper() in {"DRUG", "BIOLOGICAL", "GENETIC", ""}
    ]
    targets = list(dict.fromkeys(_TARGET_WORDS[c] for c in sorted(classes) if c in _TARGET_WORDS))
    target = " and ".join(targets) or None
    kind = next(
        (
            _CLASS_WORDS[c]
            for c in ("car_t", "bispecific", "adc", "celmod", "xpo1_inhibitor", "bcl2_inhibitor")
            if c in classes
        ),
        None,
    )
    parts = []
    if names:
        parts.append(", ".join(names[:4]) + ".")
    if kind:
        parts.append(f"This is {kind}" + (f" aimed at {target}." if target else "."))
    elif target:
        parts.append(f"It is aimed at {target}.")
    if not study.phases or study.phases == ["NA"]:
        parts.append("This study does not test a treatment; it collects information.")
    return " ".join(parts) or "See the study page for what is tested."


def _asks(study: Study) -> list[str]:
    classes = study_classes(study)
    asks: list[str] = []
    drug_ids = set(study.drug_ids)
    for option in bundled_options().values():
        if set(option.agents) & drug_ids and option.category in {"bispecific", "car_t_retreatment"}:
            asks.append(
                f"For the approved drug of this kind ({option.name}): "
                f"{option.logistics.hospital_stay}"
            )
            break
    else:
        if "car_t" in classes:
            asks.append(
                "CAR T trials need cell collection, a wait while cells are made, a few days "
                "of chemotherapy, the infusion, and weeks of close follow-up near the centre."
            )
        elif "bispecific" in classes:
            asks.append(
                "Bispecific antibodies usually start with a few step-up doses, often with "
                "a hospital stay to watch for side effects."
            )
    phases = set(study.phases)
    if phases & {"PHASE1", "EARLY_PHASE1"}:
        asks.append(
            "Early (phase 1) trials usually mean more visits and blood tests than regular care."
        )
    asks.append(
        "Ask the study team how often you must visit, and whether travel or lodging is paid."
    )
    return asks


def _where(study: Study, ranked: RankedTrial | None) -> str:
    open_sites = study.recruiting_locations
    if ranked is not None and ranked.nearest_site is not None:
        s = ranked.nearest_site
        place = ", ".join(p for p in (s.facility, s.city, s.state) if p)
        return (
            f"Nearest open site: {place}, about {s.miles:.0f} miles away. "
            f"{len(open_sites)} open site(s) in all."
        )
    if open_sites:
        first = open_sites[0]
        return f"{len(open_sites)} open site(s), for example {first.label}."
    return "No open site is listed."


def _contacts(study: Study) -> list[str]:
    out = []
    for c in study.central_contacts[:2]:
        bits = [b for b in (c.name, c.phone, c.email) if b]
        if bits:
            out.append(", ".join(bits))
    return out


def _plain_reason(text: str, fact: str) -> str:
    short = text if len(text) <= 110 else text[:107].rsplit(" ", 1)[0] + "..."
    return f"{short} (your record: {fact})" if fact else short


def summarize(study: Study, match: TrialMatch, ranked: RankedTrial | None = None) -> TrialSummary:
    reasons: list[str] = []
    if match.verdict is Verdict.likely_ineligible:
        reasons = [
            _plain_reason(c.text, c.patient_fact)
            for c in match.criteria
            if c.result is Result.not_met
        ]
    elif match.verdict is Verdict.likely_eligible:
        reasons = ["Every rule we could check against your record is met."]
    to_find_out = [
        _plain_reason(c.text, c.patient_fact) for c in match.criteria if c.result is Result.unknown
    ]
    return TrialSummary(
        nct_id=study.nct_id,
        title=study.title,
        sample=study.is_sample,
        what_is_tested=_tested(study),
        what_it_asks=_asks(study),
        where=_where(study, ranked),
        contact=_contacts(study),
        fit=_VERDICT_WORDS[match.verdict],
        reasons=reasons,
        to_find_out=to_find_out,
        ask_study_team=match.ask_study_team,
        url=study.url,
    )


__all__ = ["TrialSummary", "summarize"]
