"""Eligibility: one patient × one study's structured criteria → met / not met / unknown per
criterion, and a verdict.

``values`` (three-valued truth and why unknown) → one evaluator module per atom family
(``person``, ``disease``, ``therapy``, ``labs``, ``text``) → ``matcher`` (trees and criteria,
memoised) → ``verdict`` (results, verdict, the match record) → ``study`` (registry condition and
age, matching one study). ``myelonav.trials.matching`` re-exports the public names.
"""
