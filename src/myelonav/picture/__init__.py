"""The one clinical picture of the patient: the record read once, for every engine.

``clinical_picture(record, as_of)`` turns a ``PatientRecord`` into typed, immutable facts
(value or ``UNKNOWN``, where it came from, a clinical and a plain phrasing), the exposures
with refractoriness judged per course, current labs, the CAR T outcome and data-quality
notes. Options, trial eligibility, questions, support and the web read only this.
"""

from myelonav.picture.build import clinical_picture
from myelonav.picture.car_t import CarTOutcome
from myelonav.picture.model import ClinicalPicture, DataNote, Exposure, Fact

__all__ = ["CarTOutcome", "ClinicalPicture", "DataNote", "Exposure", "Fact", "clinical_picture"]
