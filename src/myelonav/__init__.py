"""myelonav: a navigator for people with multiple myeloma after CAR T-cell therapy.

Informational only: every answer is to be discussed and decided with the care team.
"""

__version__ = "0.1.0"

DISCLAIMER = (
    "myelonav gives information, not medical advice. Decide every treatment with your care team."
)
