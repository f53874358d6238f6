"""Phrases the criteria parser recognises, kept apart from the parsing logic.

Each table maps a regular expression (case-insensitive, applied to normalised text) to what it
means. Drug *names* are not listed here: they resolve through the project drug vocabulary.
"""

from __future__ import annotations

import re

from myelonav.patient.models import CytogeneticAbnormality


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# antigen targets: combined with a modality ("BCMA-directed CAR T") into one class set
ANTIGENS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_c(r"\b(?:anti[\s-]?)?BCMA\b|\bB[\s-]cell maturation antigen\b"), "bcma_directed"),
    (_c(r"\b(?:anti[\s-]?)?GPRC5D\b"), "gprc5d_directed"),
    (_c(r"\b(?:anti[\s-]?)?FcRH5\b|\bFcRL5\b"), "fcrh5_directed"),
)
MODALITIES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        _c(
            r"\bCAR[\s-]?T\b|\bCAR[\s-]?T[\s-]?cells?\b|\bchimeric antigen receptor\b|"
            r"\bCAR[\s-]T[\s-]cell\b|\bCAR\b(?=\s*(?:therapy|product|cell))"
        ),
        "car_t",
    ),
    (
        _c(
            r"\bbi[\s-]?specific|\bBsAbs?\b|\bT[\s-]cell engag\w*|"
            r"\bx\s*CD3\b|\bCD3\s*x\b|\bTCEs?\b"
        ),
        "bispecific",
    ),
    (_c(r"\bantibody[\s-]drug conjugates?\b|\bADCs?\b"), "adc"),
)
CLASSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_c(r"\bproteasome inhibitors?\b|\bPIs?\b"), "proteasome_inhibitor"),
    (
        _c(r"\bimmunomodulatory (?:imide )?(?:drugs?|agents?|imides?|therap\w*)\b|\bIMiDs?\b"),
        "imid",
    ),
    (_c(r"\bcereblon E3 ligase modulat\w*|\bCELMoDs?\b"), "celmod"),
    (_c(r"\banti[\s-]?CD38\b|\bCD38[\s-](?:directed|targeted|targeting|monoclonal)"), "anti_cd38"),
    (_c(r"\banti[\s-]?SLAMF7\b"), "anti_slamf7"),
    (_c(r"\bBCL[\s-]?2 inhibitors?\b"), "bcl2_inhibitor"),
    (
        _c(r"\bXPO1 inhibitors?\b|\bselective inhibitors? of nuclear export\b|\bSINE\b"),
        "xpo1_inhibitor",
    ),
    (_c(r"\bHDAC inhibitors?\b|\bhistone deacetylase inhibitors?\b"), "hdac_inhibitor"),
    (_c(r"\balkylat\w+ agents?\b|\balkylators?\b"), "alkylator"),
    (_c(r"\banthracyclines?\b"), "anthracycline"),
)
# "BCMA-directed therapy" and similar: an antigen with no modality
TARGETED_WORDS = _c(r"^[\s\-]*(?:directed|targeted|targeting|specific|based|x\s*CD3)?[\s\-]*$")

EXPOSURE_CONTEXT = _c(
    r"\b(?:prior|previous(?:ly)?|received|receiving|exposed|exposure|refractory|treated with|"
    r"treatment with|therapy with|na[iï]ve|history of|had|failed|relapsed (?:after|on|following)|"
    r"progress\w* (?:on|after|following)|after)\b"
)
REFRACTORY = _c(
    r"\brefractory\b|\bfailed\b|\bprogress\w* (?:on|within)\b|"
    r"\bprogress\w* while (?:on|receiving|taking|being treated)\b"
)
NOT_ALLOWED = _c(
    r"\b(?:is|are)\s+not\s+(?:allowed|permitted|eligible)\b|\bnot\s+(?:allowed|permitted)\b"
)
TOXICITY = _c(
    r"\btoxicit\w*|\bneurotoxicit\w*|\bCRS\b|\bcytokine release\b|\bICANS\b|\bparkinsonism\b|"
    r"\badverse (?:event|reaction)s?\b|\bside effects?\b|\bGVHD\b|\bgraft[\s-]versus[\s-]host\b|"
    r"\bhypersensitivit\w*|\ballerg\w*|\bintoleran\w*"
)
TEST_WORDS = _c(
    r"\b(?:biopsy|biopsies|scan|PET|MRI|CT|echo\w*|MUGA|assess\w*|documented|measured|confirmed|"
    r"tests?|testing|expresses|expression|evaluation)\b"
)
REQUIRE_CUE = _c(
    r"\b(?:progress\w*|relapsed|refractory|received|exposure to|exposed to|treated with|"
    r"after at least)\b"
)
ALLOWED = _c(
    r"\b(?:is|are) (?:allowed|permitted|acceptable|eligible)\b|\bmay have (?:received|had)\b|"
    r"\ballowed\b|\bpermitted\b"
)
NEGATION_LEAD = _c(
    r"^\s*(?:no|not|without|never|none)\b|\b(?:must|should) not have\b|\bha(?:s|ve) not (?:been |"
    r"previously )*(?:received|treated|exposed|had)\b|\bna[iï]ve\b|\bno (?:prior|previous)\b|"
    r"\bno history of\b"
)
EXCEPTION = _c(
    r"\(([^()]*\b(?:allowed|permitted|eligible|acceptable|excepted|exception)\b[^()]*)\)|"
    r"(?:,|;)?\s*\b(?:unless|except(?:\s+for)?|other than|excluding|with the exception of)\b"
    r"\s*([^.;()]*)"
)
# one level of nested parentheses: "(e.g. … autologous stem cell transplant (SCT) and then …)"
EXAMPLES = _c(
    r"\((?:\s*(?:(?:including|eg|such as|i\.e\.|ie|for example)\b|e\.g\.))(?:[^()]|\([^()]*\))*\)"
)
# An example list outside parentheses (", e.g., bortezomib or carfilzomib", "such as …"): the
# examples illustrate a class, they are not a requirement of their own.
EXAMPLE_TAIL = _c(
    r",?\s*\b(?:e\.\s?g\.?|such\s+as|for\s+example|for\s+instance|can\s+include|may\s+include)"
    # up to the end of the clause, but not over a time window or a carve-out that follows the
    # list ("a bispecific such as teclistamab or talquetamab within 90 days")
    r"(?=[\s,:])(?:(?!\b(?:within|in\s+the\s+(?:past|last)|prior\s+to|before|since|except|"
    r"unless)\b|[<>]=?\s*\d)[^;.()])*"
)
REFRACTORY_DEFINITION = _c(
    r"\b(?:dis(?:ease)?\s+)?progress\w*\s+(?:(?:while\s+)?on\s+(?:or\s+)?|during\s+(?:or\s+)?)?"
    r"(?:within|<=?)\s*(?:\d{1,3}|sixty|thirty)\s*(?:days?|weeks?|months?)\s+"
    r"(?:of|after|from|following)\s+(?:the\s+)?(?:last|final|completion|end|discontinuation|"
    r"stopping|cessation)\b(?:\s+(?:dose|administration|treatment|therapy|of\s+(?:therapy|"
    r"treatment)))?"
)
# Pregnancy and contraception items: their durations ("for 1 year after CAR-T infusion") are not
# treatment windows, and the drugs they name are not prior exposure.
CONTRACEPTION_TOPIC = _c(
    r"\bcontracepti\w*|\bbirth\s+control\b|\bpregnan\w*|\bbreast[\s-]?feed\w*|\blactat\w*|"
    r"\bchild[\s-]?bearing\b|\bsperm\b|\bfertile\b|\bwith\s+fertility\b"
)
# A drug named as part of a procedure of this study (lymphodepletion, conditioning,
# premedication, bridging) is not a record of prior exposure.
PROCEDURAL = _c(
    r"\blympho[\s-]?deplet\w*|\bconditioning\b|\bpre[\s-]?medicat\w*|\bbridging\b|"
    r"\bbefore\s+receiving\b|\bto\s+receive\b|\bable\s+to\s+(?:receive|tolerate)\b|"
    r"\bcandidate\s+for\b|\bas\s+part\s+of\s+(?:this|the)\s+(?:study|protocol|trial)\b|"
    r"\b(?:study|protocol)[\s-](?:specified|required|mandated)\b|\bfor\s+mobili[sz]ation\b"
)

RRMM_PHRASE = _c(
    r"\b(?:relapsed|refractory|relapsed\s*(?:and/or|/|or|and)\s*refractory|r/r)\s+"
    r"(?:multiple\s+)?myeloma\b|\bRRMM\b"
)
TRIPLE_CLASS = _c(r"\btriple[\s-]class\b|\bthree[\s-]class\b|\btriple[\s-](?:exposed|refractory)\b")
PENTA = _c(r"\bpenta[\s-]?(?:drug|class)?[\s-]?(?:exposed|refractory)\b")
QUAD = _c(r"\bquad[\s-]?(?:drug|class)?[\s-]?(?:exposed|refractory)\b")
DOUBLE = _c(r"\bdouble[\s-]?(?:class)?[\s-]?(?:exposed|refractory)\b")

ANY_THERAPY = _c(
    r"\b(?:anti[\s-]?myeloma|anti[\s-]?cancer|antineoplastic|anti[\s-]?neoplastic|systemic|"
    r"myeloma[\s-]directed|cytotoxic|investigational|prior|previous|any)\s+"
    r"(?:therapy|therapies|treatment|treatments|agents?|drugs?|chemotherapy|medication)\b|"
    r"\bchemotherapy\b|\binvestigational (?:agents?|drugs?|products?)\b"
)
RADIOTHERAPY = _c(r"\bradio\s*therapy\b|\bradiation(?: therapy)?\b|\bRT\b")
AUTO = _c(r"\bautologous\b|\bASCT\b|\bauto[\s-]?(?:SCT|HSCT|HCT|transplant\w*)\b")
ALLO = _c(r"\ballogeneic\b(?![\s-]*CAR)|\ballo[\s-]?(?:SCT|HSCT|HCT|transplant\w*)\b")
TRANSPLANT = _c(r"\btransplant\w*\b|\bSCT\b|\bHSCT\b|\bHCT\b")
CAR_T_EVENT = _c(r"\bCAR[\s-]?T\b|\bchimeric antigen receptor\b|\bCAR\b")
INFUSION = _c(r"\binfusion\b")

CNS = _c(r"\bcentral nervous system\b|\bCNS\b|\b(?:lepto)?meningeal\b")
PCL = _c(r"\bplasma[\s-]cell leuka?emia\b|\bPCL\b")
EMD = _c(r"\bextra[\s-]?medullary\b|\bEMD\b|\bplasmacytomas?\b")
PARASKELETAL = _c(r"\bparaskeletal\b|\bpara[\s-]skeletal\b|\bbone[\s-](?:adjacent|related)\b")
SOLITARY = _c(r"\bsolitary plasmacytoma\b")
NON_SECRETORY = _c(r"\bnon[\s-]?secretory\b|\boligo[\s-]?secretory\b")
MEASURABLE = _c(r"\bmeasurable\b")
NON_MEASURABLE = _c(r"\bnon[\s-]?measurable\b|\bunmeasurable\b|\bnot measurable\b")

ANTIGEN_EXPRESSION = _c(
    r"\b(BCMA|GPRC5D|CD38|FcRH5|CD19|SLAMF7)\b[\s-]*(?:expression|positiv\w*|\+|expressing)|"
    r"\bexpression of (BCMA|GPRC5D|CD38|FcRH5|CD19|SLAMF7)\b|"
    r"\b(BCMA|GPRC5D|CD38|FcRH5|CD19|SLAMF7)[\s-](?:negative|loss)\b|"
    r"\bexpress(?:es|ing)?\s+(BCMA|GPRC5D|CD38|FcRH5|CD19|SLAMF7)\b"
)
AFTER_RELAPSE = _c(
    r"\bafter (?:the )?(?:most recent|last|latest) (?:relapse|progression|therapy|line)\b|"
    r"\bat (?:the time of )?(?:screening|study entry|enrollment)\b|"
    r"\bat (?:the )?(?:most recent|current) relapse\b"
)

CYTOGENETICS: tuple[tuple[re.Pattern[str], CytogeneticAbnormality], ...] = (
    (_c(r"\bt\s*\(\s*11\s*;\s*14\s*\)"), CytogeneticAbnormality.t_11_14),
    (_c(r"\bt\s*\(\s*4\s*;\s*14\s*\)"), CytogeneticAbnormality.t_4_14),
    (_c(r"\bt\s*\(\s*14\s*;\s*16\s*\)"), CytogeneticAbnormality.t_14_16),
    (_c(r"\bt\s*\(\s*14\s*;\s*20\s*\)"), CytogeneticAbnormality.t_14_20),
    (_c(r"\bt\s*\(\s*6\s*;\s*14\s*\)"), CytogeneticAbnormality.t_6_14),
    (_c(r"\bdel\s*\(?\s*17\s*p\s*\)?|\b17p\s*deletion\b|\b17p-"), CytogeneticAbnormality.del_17p),
    (_c(r"\bTP53 mutation\b"), CytogeneticAbnormality.tp53_mutation),
    (_c(r"\bamp\s*\(?\s*1\s*q\s*\)?|\b1q\s*amplification\b"), CytogeneticAbnormality.amp_1q),
    (
        _c(r"\bgain\s*\(?\s*1\s*q\s*\)?|\b1q\s*gain\b|\b1q\+|\b1q21\s*gain\b"),
        CytogeneticAbnormality.gain_1q,
    ),
    (_c(r"\bdel\s*\(?\s*1\s*p\s*\)?"), CytogeneticAbnormality.del_1p),
)
# Any of them: one search rules out the common segment that names none.
CYTOGENETICS_ANY = re.compile("|".join(f"(?:{p.pattern})" for p, _ in CYTOGENETICS), re.I)

DISEASE_STATES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        _c(
            r"\bnewly[\s-]diagnosed\b|\bNDMM\b|\bpreviously untreated\b|\btreatment[\s-]na[iï]ve\b|"
            r"\buntreated (?:multiple )?myeloma\b"
        ),
        "ndmm",
    ),
    (
        _c(
            r"\bsmou?ldering\b|\bSMM\b|\basymptomatic (?:multiple )?myeloma\b"
            # "asymptomatic myeloma with related organ damage" (pre-2014 wording) is active
            r"(?!(?:\s+with)?[\s-]+(?:related\s+)?(?:end[\s-])?(?:organ|tissue))"
        ),
        "smoldering",
    ),
    (
        _c(
            r"\bsymptomatic (?:multiple )?(?:myeloma|MM)\b|\bCRAB\b|"
            r"\bmyeloma[\s-]defining events?\b|"
            r"\bactive (?:multiple )?myeloma\b"
        ),
        "active_mm",
    ),
    (
        _c(r"\bAL amyloidosis\b|\blight[\s-]chain amyloidosis\b|\bsystemic amyloidosis\b"),
        "al_amyloidosis",
    ),
    (_c(r"\bMGUS\b|\bmonoclonal gammopathy of undetermined significance\b"), "mgus"),
)
MYELOMA_DIAGNOSIS = _c(
    r"\b(?:diagnosis|diagnosed|documented|confirmed|established)\b.*\bmultiple myeloma\b|"
    r"^\s*multiple myeloma\b"
)

SCREENING: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        _c(
            r"\binformed consent\b|\bconsent (?:form|document)\b|"
            r"\bsign\w* (?:a |the )?(?:written )?"
            r"(?:informed )?consent\b|\bICF\b"
        ),
        "consent",
    ),
    (
        _c(
            r"\bcontracepti\w*|\bpregnan\w*|\bbreast[\s-]?feed\w*|\blactat\w*|\bchild[\s-]?bearing\b|"
            r"\bWOCBP\b|\bsperm\b|\babstinen\w*|\bbirth control\b|\bfertile\b"
        ),
        "contraception",
    ),
    (
        _c(
            r"\bhepatitis\b|\bHBV\b|\bHCV\b|\bHIV\b|\bHBsAg\b|\bhuman immunodeficiency\b|"
            r"\bsyphilis\b"
        ),
        "serology",
    ),
    (
        _c(r"\binfection\b|\binfections\b|\bsepsis\b|\btuberculosis\b|\bCOVID\b|\bSARS-CoV-2\b"),
        "infection",
    ),
    (
        _c(
            r"\bcardiac\b|\bcardiovascular\b|\bmyocardial\b|\bheart failure\b|\bNYHA\b|"
            r"\barrhythmi\w*|"
            r"\bQTc\w*|\bangina\b|\bLVEF\b|\bejection fraction\b|\bstroke\b|\bcerebrovascular\b|"
            r"\bthrombo\w*|\bembolism\b|\bhypertension\b"
        ),
        "cardiac",
    ),
    (
        _c(
            r"\bmalignanc\w*|\bsecond primary\b|\bother (?:active )?cancers?\b|\bcarcinoma\b|"
            r"\bprior cancer\b"
        ),
        "other_malignancy",
    ),
    (
        _c(
            r"\bcomply\b|\bcompliance\b|\bwilling\w* (?:and able )?to\b|\bable to (?:understand|"
            r"complete|swallow|adhere|attend)\b|\bquestionnaires?\b|\bfollow[\s-]up visits?\b"
        ),
        "compliance",
    ),
    (_c(r"\blife expectancy\b"), "life_expectancy"),
    (_c(r"\bhypersensitivit\w*|\ballerg\w*|\bintoleran\w*|\bcontraindicat\w*"), "allergy"),
    (_c(r"\bcognitive\b|\bdementia\b|\bseizure\w*|\bpsychiatric\b|\bmental\b"), "neurologic"),
    (_c(r"\bEnglish\b|\bSpanish\b|\blanguage\b"), "language"),
)
SCREENING_KIND = {"infection": "infection", "other_malignancy": "other_malignancy"}

NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "single": 1,
}
LINES = _c(
    r"(?:(>=|<=|>|<)\s*)?\b(\d+|zero|one|two|three|four|five|six|seven|eight|nine|ten|single)"
    r"(?:\s*(?:-|to|through)\s*(\d+|one|two|three|four|five|six|seven|eight|nine|ten))?"
    r"(\s+or\s+(?:more|greater|fewer|less))?\s+(?:(?:or\s+more|prior|previous|previously|"
    r"different|distinct|separate|lines?\s+of)\s+)*(?:prior\s+|previous\s+)?(?:(?:anti[\s-]?myeloma|"
    r"systemic|treatment|therapeutic)\s+)?(?:lines?|regimens?)\b"
)
TIME_WINDOW = _c(
    r"(?:(>=|<=|>|<)\s*|\bwithin\s+(?:the\s+)?(?:(?:past|last|previous|prior)\s+)?)?"
    r"(\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s*"
    r"(days?|weeks?|wks?|months?|mos?|years?)\b"
)
UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
SINCE = _c(r"\bsince\b|\bafter\b|\bfrom\b|\bpost\b|\bfollowing\b|\bbefore\b|\bprior to\b|\bago\b")
LESS_THAN_TIME = _c(r"(?:<|\bwithin\b)\s*$")
EXCLUSION_OR_SPLIT = re.compile(r"\s*(?:;\s*(?:or\s+)?|,\s+or\s+|\.\s+(?=[A-Z]))")
INCLUSION_SPLIT = re.compile(r"\s*(?:;\s*|\.\s+(?=[A-Z]))")
QUALIFIER = _c(r"\b(?:with|if|who|whose|provided|when|unless|except|only)\b")

# "progression within 12 months after (BCMA) CAR T infusion": an interval between two events.
CAR_T_INTERVAL = _c(
    r"\b(?:progress\w*|relaps\w*|PD)\b[^.;]{0,40}?\bwithin\s+(\d{1,3}|one|two|three|six|twelve)\s*"
    r"(days?|weeks?|months?|years?)\s+(?:of|after|from|following|post)\s+(?:the\s+)?"
    r"(?:(?:last|prior|previous|most\s+recent)\s+)?(?:anti[\s-]?)?(?:BCMA[\s-]*(?:directed\s+|targeted\s+)?)?"
    r"(?:CAR[\s-]?T|chimeric\s+antigen\s+receptor)"
)

# An exclusion written as an inclusion item ("… are not eligible", "… will be excluded").
EXCLUDES_HERE = _c(
    r"(?:\b(?:is|are|will\s+be|would\s+be|shall\s+be)\s+(?:not\s+eligible|ineligible|excluded)\b|"
    r"\bwill\s+not\s+be\s+(?:eligible|enrolled|included)\b|\bare\s+not\s+candidates\b)"
    # "… or who are not candidates for transplant": an alternative of the population, not an
    # exclusion of this study
    r"(?!\s+for\s+(?:an?\s+)?(?:autologous\s+|allogeneic\s+)?(?:transplant|stem|SCT|ASCT|HDT|"
    r"high|intensive))"
)
