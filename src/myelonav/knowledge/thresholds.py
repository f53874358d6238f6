"""Numbers the knowledge, support and visit content must agree on (one rule, one place).

IVIG: for people on a T-cell engager or after CAR T, immunoglobulin replacement is advised
when polyclonal IgG is below 400 mg/dL, or after repeated severe infections whatever the IgG
(Raje NS et al., consensus recommendations for infections with bispecific antibodies, Blood
Cancer J 2023, Table 4, doi:10.1038/s41408-023-00879-7). ``visit/data/questions.yaml``
(``igg_low_mg_dl``), ``support/data/education.yaml`` and the supportive-care option state the
same number; ``tests/knowledge/test_sources.py`` keeps them equal.

Recent CAR T: the bispecific and trial rules treat the first 3 months after a CAR T infusion
as "recent" (counts and T cells are still recovering; most trials ask for a washout).
"""

from __future__ import annotations

import datetime as dt

IVIG_IGG_MG_DL = 400.0
IVIG_CITATION_DOI = "10.1038/s41408-023-00879-7"
RECENT_CAR_T_MONTHS = 3.0
LAST_REVIEWED = dt.date(2026, 12, 4)

__all__ = ["IVIG_CITATION_DOI", "IVIG_IGG_MG_DL", "LAST_REVIEWED", "RECENT_CAR_T_MONTHS"]
