"""Clinical trials: ClinicalTrials.gov API v2 client, typed study model, store, search, sync.

Eligibility parsing lives in ``trials.criteria`` and patient matching in ``trials.matching``.
"""
