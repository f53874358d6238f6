"""Every error myelonav raises on purpose, in one tree.

::

    MyelonavError                      base of everything below
    ├── InputError                     bad input from a user or a file; names where
    │   ├── RecordValidationError      a patient profile breaks the schema
    │   ├── ImportError_               a FHIR bundle or file cannot be imported
    │   │   └── NotMyelomaError        the bundle holds no multiple myeloma diagnosis
    │   ├── UnitError                  a unit that cannot be converted for an analyte
    │   └── VocabularyError            a drug name the vocabulary does not know (strict use)
    ├── KnowledgeError                 a curated data file (drugs, evidence, rules) is invalid
    ├── CalculationError               a calculator was given inputs it cannot decide on
    │   └── ImplausibleInputError      a calculator input outside plausible limits (also an
    │                                  InputError); carries ``field`` and ``plain``
    ├── StoreError                     persistence failed (database, atomic write)
    └── TrialsError                    ClinicalTrials.gov data could not be fetched or read
        ├── TrialsHTTPError            the API answered with an error after retries
        └── TrialsDataError            a study record does not have the v2 shape

Each error carries ``location``: the field path, file line or JSON path it is about,
so the CLI can print one line that tells the user what to fix.
"""

from __future__ import annotations


class MyelonavError(Exception):
    """Base class for every error raised deliberately by myelonav."""

    def __init__(self, message: str, *, location: str | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.location:
            return f"{self.location}: {self.message}"
        return self.message


class InputError(MyelonavError):
    """Input from a user or file is wrong; the location says where."""


class RecordValidationError(InputError):
    """A patient profile does not satisfy the record schema."""


class ImportError_(InputError):
    """A file could not be imported; nothing was written."""


class NotMyelomaError(ImportError_):
    """The record has no multiple myeloma diagnosis, so myelonav cannot reason over it."""


class UnitError(InputError):
    """A measurement's unit is unknown or not convertible for its analyte."""


class VocabularyError(InputError):
    """A drug name could not be resolved through the drug vocabulary."""


class KnowledgeError(MyelonavError):
    """A curated data file (drug vocabulary, evidence, rules) failed validation."""


class CalculationError(MyelonavError):
    """A calculator cannot decide with the inputs given (it says which are missing)."""


class StoreError(MyelonavError):
    """Reading or writing persistent data failed."""


class TrialsError(MyelonavError):
    """ClinicalTrials.gov data could not be fetched, stored or read."""


class TrialsHTTPError(TrialsError):
    """The ClinicalTrials.gov API answered with an error status after retries."""


class TrialsDataError(TrialsError):
    """A study record does not have the ClinicalTrials.gov API v2 shape."""


class ImplausibleInputError(InputError, CalculationError):
    """A calculator input is outside the limits a real measurement can have (temperature 101
    "°C", creatinine 150 mg/dL, weight 0). ``field`` names the input, ``plain`` says what is
    wrong in plain words (with a unit guess when one is likely), so a caller can turn the fact
    into "unknown" with a data-quality note instead of a silent grade or a crash."""

    def __init__(self, field: str, plain: str) -> None:
        self.field = field
        self.plain = plain
        super().__init__(plain, location=field)


__all__ = [
    "CalculationError",
    "ImplausibleInputError",
    "ImportError_",
    "InputError",
    "KnowledgeError",
    "MyelonavError",
    "NotMyelomaError",
    "RecordValidationError",
    "StoreError",
    "TrialsDataError",
    "TrialsError",
    "TrialsHTTPError",
    "UnitError",
    "VocabularyError",
]
