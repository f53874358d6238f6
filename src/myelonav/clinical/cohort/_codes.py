"""Input measures, output vocabularies and the small integer codes the engine computes with.

Response ranks follow ``RESPONSE_ORDER`` (0 = NE); a path, rule or light chain is the index of
its name in ``PATHS``, ``RULE_NAMES`` or (kappa, lambda).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from myelonav.clinical import thresholds as t
from myelonav.clinical.imwg import RULES
from myelonav.patient.models import RESPONSE_ORDER, ResponseCategory

EPS: Final = t.EPS

MEASURES: Final = (
    "serum_m",
    "urine_m",
    "kappa",
    "lambda",
    "flc_ratio",
    "serum_ife",
    "urine_ife",
    "marrow_pc",
    "marrow_clonal",
    "plasmacytoma_spd",
    "new_lesion",
)
BASE_MEASURES: Final = (
    "serum_m",
    "urine_m",
    "kappa",
    "lambda",
    "flc_ratio",
    "marrow_pc",
    "plasmacytoma_spd",
)

R = {category.value: rank for category, rank in RESPONSE_ORDER.items()}
PD, SD, MR, PR = R["PD"], R["SD"], R["MR"], R["PR"]
VGPR, CR, SCR, NE = R["VGPR"], R["CR"], R["sCR"], R["NE"]
CATEGORY_BY_RANK: Final = {rank: category for category, rank in RESPONSE_ORDER.items()}

# Output vocabularies; computations use the index of a value as its code.
CATEGORY_ENUM: Final = pl.Enum([CATEGORY_BY_RANK[r].value for r in range(len(CATEGORY_BY_RANK))])
RULE_NAMES: Final = tuple(RULES)
RULE_ENUM: Final = pl.Enum(list(RULE_NAMES))
PATHS: Final = ("m_protein", "flc", "marrow", "none", "flc_fallback")
PATH_ENUM: Final = pl.Enum(list(PATHS))
MEASURE_ENUM: Final = pl.Enum(list(MEASURES))
P_M, P_FLC, P_MARROW, P_NONE, P_FB = range(len(PATHS))
KAPPA, LAMBDA = 0, 1
RULE_CODE = {name: code for code, name in enumerate(RULE_NAMES)}


def category_of(rank: int | None) -> ResponseCategory | None:
    return None if rank is None else CATEGORY_BY_RANK[rank]
