"""Eligibility criteria: free text → structured, JSON-serialisable criteria.

Parsed once, when a study is stored; the store keeps the result.
"""

from myelonav.trials.criteria.models import Criterion, CriterionKind, ParsedCriteria, Section
from myelonav.trials.criteria.parser import parse_criteria, parse_criterion

__all__ = [
    "Criterion",
    "CriterionKind",
    "ParsedCriteria",
    "Section",
    "parse_criteria",
    "parse_criterion",
]
