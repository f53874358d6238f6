"""The drug vocabulary: one data file (``data/drugs.yaml``), one resolver for the whole system.

``resolve("JNJ-64407564")`` → the ``talquetamab`` entry; ``resolve("Abecma")`` → ide-cel.
Names are matched case-insensitively after folding spaces, hyphens and trademark signs, so
"Ide-Cel", "ide cel" and "IDECEL" all resolve. Free text ("CAR T-cell therapy with
idecabtagene vicleucel (Abecma)") is searched with ``find_in_text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from myelonav.errors import KnowledgeError, VocabularyError

DrugClass = Literal[
    "proteasome_inhibitor",
    "imid",
    "celmod",
    "anti_cd38",
    "anti_slamf7",
    "bcma_directed",
    "gprc5d_directed",
    "fcrh5_directed",
    "car_t",
    "bispecific",
    "adc",
    "xpo1_inhibitor",
    "bcl2_inhibitor",
    "hdac_inhibitor",
    "alkylator",
    "anthracycline",
    "topoisomerase_inhibitor",
    "platinum",
    "corticosteroid",
    "purine_analog",
    "allogeneic_car_t",
]
DRUG_CLASSES: frozenset[str] = frozenset(DrugClass.__args__)  # type: ignore[attr-defined]

_ALLOWED_KEYS = frozenset(
    {
        "id",
        "abbreviations",
        "brands",
        "codes",
        "synonyms",
        "rxnorm",
        "rxnorm_products",
        "classes",
        "target",
        "kind",
        "investigational",
        "withdrawn_us",
    }
)
_KINDS = frozenset({"drug", "cell_therapy"})


def fold(name: str) -> str:
    """Fold a drug name for matching: lower case, no trademark signs, spaces or hyphens."""
    name = name.lower().replace("®", "").replace("™", "")
    return re.sub(r"[\s\-_/.,()]+", "", name)


@dataclass(frozen=True)
class Drug:
    """One agent in the vocabulary."""

    id: str
    classes: frozenset[str]
    brands: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    rxnorm: str | None = None
    rxnorm_products: tuple[str, ...] = ()
    target: str | None = None
    kind: str = "drug"
    investigational: bool = False
    withdrawn_us: str | None = None  # why and when its US approval or marketing ended
    names: tuple[str, ...] = field(default=(), compare=False)

    def is_(self, drug_class: str) -> bool:
        return drug_class in self.classes

    @property
    def display(self) -> str:
        brand = f" ({self.brands[0]})" if self.brands else ""
        return f"{self.id}{brand}"

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> Drug:
        unknown = set(data) - _ALLOWED_KEYS
        if unknown:
            raise KnowledgeError(f"unknown keys {sorted(unknown)}", location=where)
        if not isinstance(data.get("id"), str) or not data["id"]:
            raise KnowledgeError("missing 'id'", location=where)
        classes = data.get("classes") or []
        bad = [c for c in classes if c not in DRUG_CLASSES]
        if not classes or bad:
            raise KnowledgeError(
                f"classes must be from the closed list; bad: {bad}", location=where
            )
        kind = data.get("kind", "drug")
        if kind not in _KINDS:
            raise KnowledgeError(f"kind must be one of {sorted(_KINDS)}", location=where)
        rxnorm = data.get("rxnorm")
        if rxnorm is not None and not re.fullmatch(r"\d+", str(rxnorm)):
            raise KnowledgeError("rxnorm must be digits", location=where)
        products = data.get("rxnorm_products") or []
        if not isinstance(products, list) or not all(
            re.fullmatch(r"\d+", str(p)) for p in products
        ):
            raise KnowledgeError("rxnorm_products must be a list of digit strings", location=where)

        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise KnowledgeError(f"{key} must be a list of strings", location=where)
            return tuple(value)

        brands, codes = strings("brands"), strings("codes")
        abbreviations, synonyms = strings("abbreviations"), strings("synonyms")
        return cls(
            id=data["id"],
            classes=frozenset(classes),
            brands=brands,
            codes=codes,
            abbreviations=abbreviations,
            synonyms=synonyms,
            rxnorm=str(rxnorm) if rxnorm is not None else None,
            rxnorm_products=tuple(str(p) for p in products),
            target=data.get("target"),
            kind=kind,
            investigational=bool(data.get("investigational", False)),
            withdrawn_us=_withdrawn(data.get("withdrawn_us"), where),
            names=(data["id"], *abbreviations, *brands, *codes, *synonyms),
        )


def _withdrawn(value: Any, where: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise KnowledgeError("withdrawn_us must be a non-empty text", location=where)
    return value


class Vocabulary:
    """All drugs and regimen acronyms, indexed by every name they go by."""

    def __init__(self, drugs: Iterable[Drug], regimens: dict[str, list[str]]) -> None:
        self.drugs: dict[str, Drug] = {}
        self._by_name: dict[str, Drug] = {}
        self._by_rxnorm: dict[str, Drug] = {}
        for drug in drugs:
            if drug.id in self.drugs:
                raise KnowledgeError(f"duplicate drug id {drug.id!r}")
            self.drugs[drug.id] = drug
            for name in drug.names:
                key = fold(name)
                other = self._by_name.get(key)
                if other is not None and other.id != drug.id:
                    raise KnowledgeError(f"name {name!r} names both {other.id} and {drug.id}")
                self._by_name[key] = drug
            for code in (drug.rxnorm, *drug.rxnorm_products):
                if code:
                    self._by_rxnorm[code] = drug
        self.regimens: dict[str, tuple[str, ...]] = {}
        for acronym, members in regimens.items():
            missing = [m for m in members if m not in self.drugs]
            if missing:
                raise KnowledgeError(f"regimen {acronym} names unknown drugs {missing}")
            self.regimens[fold(acronym)] = tuple(members)
        # longest names first so "melphalan flufenamide" wins over "melphalan" in free text
        names = sorted(
            ((fold(n), n) for d in self.drugs.values() for n in d.names), key=lambda p: -len(p[0])
        )
        # The word-boundary checks stand once outside the alternation, so a position inside a
        # word is dismissed by one test instead of one per name (5-200x faster on long text).
        starts_alnum = all(o.strip()[:1].isascii() and o.strip()[:1].isalnum() for _, o in names)
        pattern = (
            r"(?<![A-Za-z0-9])"
            + (r"(?=[A-Za-z0-9])" if starts_alnum else "")
            + "(?:"
            + "|".join(_loose(original) for _, original in names)
            + r")(?![A-Za-z0-9])"
        )
        self._text_pattern = re.compile(pattern, re.IGNORECASE)
        self._found: dict[str, tuple[Drug, ...]] = {}

    def resolve(self, name: str) -> Drug | None:
        """The drug a name, brand, code name or abbreviation stands for, or None."""
        if not name or not name.strip():
            return None
        return self._by_name.get(fold(name))

    def require(self, name: str) -> Drug:
        drug = self.resolve(name)
        if drug is None:
            raise VocabularyError(f"unknown drug name {name!r}")
        return drug

    def by_rxnorm(self, code: str) -> Drug | None:
        return self._by_rxnorm.get(code.strip())

    def expand_regimen(self, acronym: str) -> tuple[str, ...] | None:
        return self.regimens.get(fold(acronym))

    def find_in_text(self, text: str) -> list[Drug]:
        """Every vocabulary drug named anywhere in free text, in order of first mention."""
        # Memoised by text: matching asks this of the same criterion texts for every patient,
        # and one scan of the name pattern costs milliseconds.
        hit = self._found.get(text)
        if hit is None:
            found: dict[str, Drug] = {}
            for match in self._text_pattern.finditer(text):
                drug = self.resolve(match.group(0))
                if drug is not None and drug.id not in found:
                    found[drug.id] = drug
            hit = tuple(found.values())
            if len(self._found) >= _FOUND_CACHE_SIZE:
                self._found.clear()
            self._found[text] = hit
        return list(hit)

    def with_class(self, drug_class: str) -> list[Drug]:
        if drug_class not in DRUG_CLASSES:
            raise KnowledgeError(f"unknown drug class {drug_class!r}")
        return [d for d in self.drugs.values() if drug_class in d.classes]

    def classes_of(self, agents: Iterable[str]) -> set[str]:
        """Union of the classes of the given canonical agent names (unknown names ignored)."""
        classes: set[str] = set()
        for agent in agents:
            drug = self.resolve(agent)
            if drug is not None:
                classes |= drug.classes
        return classes


_FOUND_CACHE_SIZE = 65536


def _loose(name: str) -> str:
    """A regex for a name that tolerates space/hyphen variants ("ide-cel", "ide cel", "idecel")."""
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", name.strip()) if p]
    return r"[\s\-]?".join(parts)


def load_vocabulary(text: str, source: str = "drugs.yaml") -> Vocabulary:
    """Parse and validate a vocabulary document (the YAML text of ``drugs.yaml``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"not valid YAML: {exc}", location=source) from exc
    if not isinstance(data, dict) or data.get("schema") != "myelonav.drugs/1":
        raise KnowledgeError("expected a mapping with schema: myelonav.drugs/1", location=source)
    extra = set(data) - {"schema", "last_reviewed", "drugs", "regimens"}
    if extra:
        raise KnowledgeError(f"unknown top-level keys {sorted(extra)}", location=source)
    entries = data.get("drugs")
    if not isinstance(entries, list):
        raise KnowledgeError("'drugs' must be a list", location=source)
    drugs = [Drug.from_dict(e, f"{source}:drugs[{i}]") for i, e in enumerate(entries)]
    regimens = data.get("regimens") or {}
    if not isinstance(regimens, dict):
        raise KnowledgeError("'regimens' must be a mapping", location=source)
    return Vocabulary(drugs, regimens)


@cache
def vocabulary() -> Vocabulary:
    """The bundled vocabulary, loaded once."""
    text = resources.files("myelonav.patient").joinpath("data/drugs.yaml").read_text("utf-8")
    return load_vocabulary(text)


__all__ = ["DRUG_CLASSES", "Drug", "Vocabulary", "fold", "load_vocabulary", "vocabulary"]
