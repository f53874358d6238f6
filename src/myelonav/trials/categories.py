"""Trial categories for filters and explanations: what kind of therapy a study tests and for whom.

Read from the registry record only (interventions with their vocabulary classes and targets,
arm descriptions, title, conditions): CAR T (autologous / allogeneic / switchable / dual-target),
the antigen targets, bispecific / trispecific antibodies, CELMoDs, antibody-drug conjugates,
retreatment, and the disease setting (newly diagnosed vs relapsed/refractory). A category is
added only when the record names it; an absent category means "not stated", not "not so".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from myelonav.trials.models import Study

_I = re.IGNORECASE
_CAR_T = re.compile(
    r"\bCAR[\s-]?T\b|\bchimeric\s+antigen\s+receptor\b|\bCAR[\s-]?(?:NK|cells?)\b", _I
)
_ALLOGENEIC = re.compile(
    r"\ballogene(?:ic|ous)\b[^.;]{0,40}\bCAR\b|\bCAR[^.;]{0,40}\ballogene(?:ic|ous)\b|"
    r"\boff[\s-]the[\s-]shelf\b|\bUCART\w*|\buniversal\s+CAR\b|\bhealthy\s+donor\b",
    _I,
)
_AUTOLOGOUS = re.compile(r"\bautologous\b[^.;]{0,40}\bCAR\b|\bCAR[^.;]{0,40}\bautologous\b", _I)
_SWITCHABLE = re.compile(
    r"\bswitchable\b|\bon[\s/-]off\b|\badapter\b|\badaptor\b|\bARC[\s-]?T\b|\bsparX\b|"
    r"\bUniCAR\b|\bsafety\s+switch\b|\bsuicide\s+(?:gene|switch)\b",
    _I,
)
_DUAL_CAR = re.compile(
    r"\b(?:dual|tandem|bi[\s-]?specific|bicistronic)[\s-]+(?:target\w*\s+)?CAR\b|"
    r"\bCAR[^.;]{0,30}\b(?:dual[\s-]target\w*|tandem)\b",
    _I,
)
_BISPECIFIC = re.compile(r"\bbi[\s-]?specific\b|\bx\s*CD3\b|\bT[\s-]cell\s+engag\w*", _I)
_TRISPECIFIC = re.compile(r"\btri[\s-]?specific\b", _I)
_CELMOD = re.compile(r"\bCELMoD\b|\bcereblon\s+E3\s+ligase\s+modulat\w*", _I)
_ADC = re.compile(r"\bantibody[\s-]drug\s+conjugate\b|\bADC\b", _I)
_RETREAT = re.compile(
    r"\bre[\s-]?treat\w*|\bre[\s-]?infus\w*|\bsecond\s+(?:CAR|infusion)\b|\bre[\s-]?dos\w*",
    _I,
)
_NEWLY = re.compile(
    r"\bnewly[\s-]diagnosed\b|\bNDMM\b|\bprevious(?:ly)?\s+untreated\b|\btreatment[\s-]na[iï]ve\b|"
    r"\bfront[\s-]?line\b|\bfirst[\s-]line\b|\binduction\b",
    _I,
)
_RELAPSED = re.compile(
    r"\brelapsed\b|\brefractory\b|\bRRMM\b|\bR/R\b|\bprevious(?:ly)?\s+treated\b", _I
)
_TARGETS = {
    "BCMA": re.compile(r"\bBCMA\b|\bB[\s-]cell\s+maturation\s+antigen\b", _I),
    "GPRC5D": re.compile(r"\bGPRC5D\b", _I),
    "FcRH5": re.compile(r"\bFcRH5\b|\bFcRL5\b", _I),
    "CD38": re.compile(r"\bCD38\b", _I),
    "SLAMF7": re.compile(r"\bSLAMF7\b|\bCS1\b", _I),
    "CD19": re.compile(r"\bCD19\b", _I),
    "TACI": re.compile(r"\bTACI\b", _I),
    "CD70": re.compile(r"\bCD70\b", _I),
    "CD138": re.compile(r"\bCD138\b", _I),
    "APRIL": re.compile(r"\bAPRIL\b"),
    "NKG2D": re.compile(r"\bNKG2D\b", _I),
}
_PRIOR_TARGET = re.compile(
    r"\b(?:after|following|post|prior|previous(?:ly)?|exposed\s+to|refractory\s+to|"
    r"relapsed\s+after|failure\s+of|progress\w*\s+(?:on|after))"
    r"(?:\s+(?:prior|previous|anti|an?|the))?[\s-]+[A-Za-z0-9]{2,8}[\s-]+"
    r"(?:directed|targeted|targeting)?[\s-]*(?:therap\w*|treatment|CAR[\s-]?T\w*|"
    r"bispecific\w*|agents?|drugs?)",
    _I,
)
# "after CAR T or bispecific antibody therapy": the kinds of treatment the patients had
# (linear: fixed words, no nested repetition)
_KIND = r"(?:CAR[\s-]?T(?:[\s-]cells?)?|bi[\s-]?specific(?:\s+antibod(?:y|ies))?)"
_PRIOR_KINDS = re.compile(
    r"\b(?:after|following|post|prior|previous(?:ly)?|exposed\s+to|refractory\s+to|"
    r"relapsed\s+after|failure\s+of|progress\w*\s+(?:on|after))"
    r"(?:\s+(?:prior|previous|an?|the))?\s+"
    + _KIND
    + r"(?:,?\s+(?:or|and|and/or)\s+"
    + _KIND
    + r")?(?:\s+(?:therap\w*|treatment))?",
    _I,
)
# vocabulary classes that name a target
_CLASS_TARGET = {
    "bcma_directed": "BCMA",
    "gprc5d_directed": "GPRC5D",
    "fcrh5_directed": "FcRH5",
    "anti_cd38": "CD38",
    "anti_slamf7": "SLAMF7",
}


@dataclass(frozen=True, slots=True)
class TrialCategories:
    """What a study tests: modality labels (``car_t``, ``car_t_autologous``,
    ``car_t_allogeneic``, ``car_t_switchable``, ``car_t_dual_target``, ``bispecific``,
    ``trispecific``, ``celmod``, ``adc``, ``retreatment``), targets, and the setting
    (``newly_diagnosed`` / ``relapsed``; both when the record names both)."""

    modalities: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        return (*self.modalities, *(f"target:{t}" for t in self.targets), *self.settings)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "modalities": list(self.modalities),
            "targets": list(self.targets),
            "settings": list(self.settings),
        }


def categorise(study: Study) -> TrialCategories:
    """The study's categories (memoised on the fields read)."""
    interventions = tuple(
        (
            i.name,
            i.description or "",
            " ".join(i.other_names),
            tuple(i.drug_classes),
            tuple(i.targets),
        )
        for i in study.interventions
    )
    arms = tuple(a.description or "" for a in study.arms)
    return _categorise(
        study.title, study.official_title or "", tuple(study.conditions), interventions, arms
    )


@lru_cache(maxsize=16384)
def _categorise(
    title: str,
    official: str,
    conditions: tuple[str, ...],
    interventions: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...],
    arms: tuple[str, ...],
) -> TrialCategories:
    # "after prior BCMA-directed therapy" names the patients' history, not the study's target
    therapy_text = _PRIOR_TARGET.sub(
        " ",
        " | ".join([title, official, *(f"{n} {d} {o}" for n, d, o, _, _ in interventions), *arms]),
    )
    therapy_text = _PRIOR_KINDS.sub(" ", therapy_text)  # "after CAR T or bispecific therapy"
    classes = {c for *_, cls, _ in interventions for c in cls}
    targets: dict[str, None] = {}
    for *_, cls, tg in interventions:
        for c in cls:
            if c in _CLASS_TARGET:
                targets[_CLASS_TARGET[c]] = None
        for t in tg:
            targets[t] = None
    for name, pattern in _TARGETS.items():
        if pattern.search(therapy_text):
            targets[name] = None
    modalities: list[str] = []
    car_t = "car_t" in classes or bool(_CAR_T.search(therapy_text))
    if car_t:
        modalities.append("car_t")
        if "allogeneic_car_t" in classes or _ALLOGENEIC.search(therapy_text):
            modalities.append("car_t_allogeneic")
        if _AUTOLOGOUS.search(therapy_text):
            modalities.append("car_t_autologous")
        if _SWITCHABLE.search(therapy_text):
            modalities.append("car_t_switchable")
        if _DUAL_CAR.search(therapy_text) or _car_targets(therapy_text) >= 2:
            modalities.append("car_t_dual_target")
    if _TRISPECIFIC.search(therapy_text):
        modalities.append("trispecific")
    elif "bispecific" in classes or (
        _BISPECIFIC.search(therapy_text) and not _DUAL_CAR.search(therapy_text)
    ):
        modalities.append("bispecific")
    if "celmod" in classes or _CELMOD.search(therapy_text):
        modalities.append("celmod")
    if "adc" in classes or _ADC.search(therapy_text):
        modalities.append("adc")
    if _RETREAT.search(f"{title} | {official}"):
        modalities.append("retreatment")
    setting_text = " | ".join([title, official, *conditions])
    settings = [
        name
        for name, pattern in (("newly_diagnosed", _NEWLY), ("relapsed", _RELAPSED))
        if pattern.search(setting_text)
    ]
    return TrialCategories(tuple(modalities), tuple(targets), tuple(settings))


def _car_targets(text: str) -> int:
    """Targets named inside one CAR T phrase ("BCMA/CD19 CAR T", "CAR T targeting BCMA and
    GPRC5D"), as a sign of a dual-target product."""
    best = 0
    for m in _CAR_T.finditer(text):
        window = text[max(0, m.start() - 40) : m.end() + 40]
        best = max(best, sum(1 for p in _TARGETS.values() if p.search(window)))
    return best


def labels_of(categories: Iterable[TrialCategories]) -> list[str]:
    """Every label used by any of the given studies, for a filter list."""
    return sorted({label for c in categories for label in c.labels})


__all__ = ["TrialCategories", "categorise", "labels_of"]
