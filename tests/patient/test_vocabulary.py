from __future__ import annotations

import pytest

from myelonav.errors import KnowledgeError, VocabularyError
from myelonav.patient.vocabulary import fold, load_vocabulary, vocabulary


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("JNJ-64407564", "talquetamab"),
        ("Talvey", "talquetamab"),
        ("ide-cel", "idecabtagene vicleucel"),
        ("IDE CEL", "idecabtagene vicleucel"),
        ("bb2121", "idecabtagene vicleucel"),
        ("Abecma®", "idecabtagene vicleucel"),
        ("cilta-cel", "ciltacabtagene autoleucel"),
        ("JNJ-68284528", "ciltacabtagene autoleucel"),
        ("Carvykti", "ciltacabtagene autoleucel"),
        ("Tecvayli", "teclistamab"),
        ("teclistamab-cqyv", "teclistamab"),
        ("REGN5458", "linvoseltamab"),
        ("PF-06863135", "elranatamab"),
        ("BFCR4350A", "cevostamab"),
        ("KPT-330", "selinexor"),
        ("Darzalex Faspro", "daratumumab"),
        ("belamaf", "belantamab mafodotin"),
    ],
)
def test_resolves_names_brands_and_codes(name: str, expected: str) -> None:
    drug = vocabulary().resolve(name)
    assert drug is not None and drug.id == expected


def test_unknown_names() -> None:
    vocab = vocabulary()
    assert vocab.resolve("acetaminophen") is None
    assert vocab.resolve("  ") is None
    with pytest.raises(VocabularyError, match="acetaminophen"):
        vocab.require("acetaminophen")


def test_classes_and_targets() -> None:
    vocab = vocabulary()
    tec = vocab.require("teclistamab")
    assert tec.is_("bispecific") and tec.is_("bcma_directed") and tec.target == "BCMA"
    assert vocab.require("talquetamab").target == "GPRC5D"
    assert vocab.require("ide-cel").is_("car_t")
    assert vocab.classes_of(["daratumumab", "pomalidomide", "unknown drug"]) == {
        "anti_cd38",
        "imid",
    }
    bcma_car_t = {d.id for d in vocab.with_class("car_t") if d.is_("bcma_directed")}
    assert {"idecabtagene vicleucel", "ciltacabtagene autoleucel"} <= bcma_car_t


def test_rxnorm_lookup() -> None:
    vocab = vocabulary()
    assert vocab.by_rxnorm("358258") is not None
    assert vocab.by_rxnorm("358258").id == "bortezomib"  # type: ignore[union-attr]
    assert vocab.by_rxnorm("0") is None
    tec = vocab.by_rxnorm("2619438")  # a product-level code from the FDA NDC directory
    assert tec is not None and tec.id == "teclistamab"


def test_find_in_text_prefers_longest_name() -> None:
    found = vocabulary().find_in_text(
        "CAR T-cell therapy with idecabtagene vicleucel (Abecma); later melphalan flufenamide"
    )
    assert [d.id for d in found] == ["idecabtagene vicleucel", "melphalan flufenamide"]


def test_regimen_acronyms_expand() -> None:
    assert vocabulary().expand_regimen("dpd") == ("daratumumab", "pomalidomide", "dexamethasone")
    assert vocabulary().expand_regimen("XYZ") is None


def test_fold() -> None:
    assert fold("Ide-Cel") == fold("ide cel") == "idecel"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            "schema: myelonav.drugs/1\ndrugs:\n  - {id: x, classes: [imid], colour: red}\n",
            "unknown keys",
        ),
        ("schema: myelonav.drugs/1\ndrugs:\n  - {id: x, classes: [magic]}\n", "closed list"),
        (
            "schema: myelonav.drugs/1\ndrugs:\n  - {id: x, classes: [imid]}\n"
            "  - {id: y, classes: [imid], brands: [x]}\n",
            "names both",
        ),
        ("schema: other\ndrugs: []\n", "schema"),
        (
            "schema: myelonav.drugs/1\ndrugs:\n  - {id: x, classes: [imid]}\n"
            "regimens: {Xd: [x, z]}\n",
            "unknown drugs",
        ),
        ("schema: myelonav.drugs/1\ndrugs: [\n", "YAML"),
    ],
)
def test_loader_rejects_bad_documents(document: str, message: str) -> None:
    with pytest.raises(KnowledgeError, match=message):
        load_vocabulary(document, "test.yaml")
