"""Every clinical threshold the calculators use, in one place, each with its source.

Sources (all last reviewed 2026-11-25):

* IMWG 2016 — Kumar S, et al. International Myeloma Working Group consensus criteria for
  response and minimal residual disease assessment in multiple myeloma. Lancet Oncol
  2016;17:e328-46. doi:10.1016/S1470-2045(16)30206-6.
* ISS — Greipp PR, et al. International staging system for multiple myeloma.
  J Clin Oncol 2005;23:3412-20. doi:10.1200/JCO.2005.04.242.
* R-ISS — Palumbo A, et al. Revised International Staging System for multiple myeloma.
  J Clin Oncol 2015;33:2863-9. doi:10.1200/JCO.2015.61.2267.
* R2-ISS — D'Agostino M, et al. Second Revision of the International Staging System (R2-ISS)
  for overall survival in multiple myeloma. J Clin Oncol 2022;40:3406-18.
  doi:10.1200/JCO.21.02614. Point values as restated by the Danish validation, Blood Cancer J
  2025 (s41408-025-01268-y).
* ASTCT — Lee DW, et al. ASTCT consensus grading for cytokine release syndrome and neurologic
  toxicity associated with immune effector cells. Biol Blood Marrow Transplant
  2019;25:625-38. doi:10.1016/j.bbmt.2018.12.758.
* Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum creatinine.
  Nephron 1976;16:31-41. doi:10.1159/000180580.
* CKD-EPI 2021 — Inker LA, et al. New creatinine- and cystatin C-based equations to estimate
  GFR without race. N Engl J Med 2021;385:1737-49. doi:10.1056/NEJMoa2102953.
"""

from __future__ import annotations

from typing import Final

LAST_REVIEWED: Final = "2026-11-25"

# Float comparisons against thresholds tolerate this much rounding noise (both engines use it).
EPS: Final = 1e-9

# --------------------------------------------------------------------------- IMWG 2016
# Measurable disease (IMWG 2016, "measurable disease" definition).
MEASURABLE_SERUM_M_G_DL: Final = 1.0  # serum M-protein >= 1 g/dL
MEASURABLE_URINE_M_MG_24H: Final = 200.0  # urine M-protein >= 200 mg/24 h
MEASURABLE_INVOLVED_FLC_MG_L: Final = 100.0  # involved FLC >= 10 mg/dL, with abnormal ratio
# Normal serum kappa/lambda FLC ratio (IMWG 2016; Freelite reference range).
FLC_RATIO_NORMAL_LOW: Final = 0.26
FLC_RATIO_NORMAL_HIGH: Final = 1.65
# Marrow route to PR in non-secretory disease: baseline marrow plasma cells >= 30 %.
MARROW_PATH_MIN_BASELINE_PCT: Final = 30.0

# Response thresholds (fractional reduction from baseline).
PR_SERUM_REDUCTION: Final = 0.50
PR_URINE_REDUCTION: Final = 0.90
PR_URINE_ABSOLUTE_MG_24H: Final = 200.0  # or urine M-protein < 200 mg/24 h
PR_DFLC_REDUCTION: Final = 0.50  # FLC-only disease
PR_MARROW_REDUCTION: Final = 0.50  # marrow-only disease
PR_PLASMACYTOMA_REDUCTION: Final = 0.50  # SPD of soft-tissue plasmacytomas, if present
VGPR_SERUM_REDUCTION: Final = 0.90
VGPR_URINE_MAX_MG_24H: Final = 100.0  # urine M-protein < 100 mg/24 h
VGPR_DFLC_REDUCTION: Final = 0.90  # FLC-only disease
MR_SERUM_REDUCTION: Final = 0.25
MR_URINE_REDUCTION: Final = 0.50
# IMWG tables differ on the plasmacytoma condition for MR (25-49 % in the 2011 table); we take
# the lower bound of that range as the requirement.
MR_PLASMACYTOMA_REDUCTION: Final = 0.25
CR_MARROW_MAX_PCT: Final = 5.0  # < 5 % plasma cells in marrow aspirate

# Progressive disease: >= 25 % increase from the lowest response value plus an absolute floor.
PD_RELATIVE_RISE: Final = 0.25
PD_SERUM_ABS_G_DL: Final = 0.5
PD_SERUM_HIGH_NADIR_G_DL: Final = 5.0  # when the nadir was >= 5 g/dL ...
PD_SERUM_HIGH_NADIR_ABS_G_DL: Final = 1.0  # ... an increase >= 1 g/dL suffices
PD_URINE_ABS_MG_24H: Final = 200.0
PD_DFLC_ABS_MG_L: Final = 100.0  # absolute increase must be > 10 mg/dL (strictly greater)
PD_MARROW_ABS_PCT: Final = 10.0  # absolute increase >= 10 percentage points
PD_PLASMACYTOMA_RISE: Final = 0.50  # >= 50 % increase from nadir in SPD

# Response (and progression) needs two consecutive assessments (IMWG 2016). Bone-marrow
# results need not be repeated to confirm a response (IMWG 2016, footnote to the response
# table), so one marrow < 5 % with two consecutive negative-immunofixation assessments is CR.
CONFIRMING_ASSESSMENTS: Final = 2
# One assessment = the labs drawn within this many days of its first lab (SPEP, IFE, FLC and
# marrow are often drawn on different days for one visit). IMWG 2016 does not define a window;
# 14 days is half the usual 28-day assessment cycle, so two monthly visits never merge
# (myelonav convention, reviewed 2026-12-04). Windows never straddle a treatment start.
ASSESSMENT_WINDOW_DAYS: Final = 14

# --------------------------------------------------------------------------- CAR T episode
# Early vs late relapse after CAR T: progression < 6 months after infusion counts as early.
# A 6-month cut-off after BCMA CAR T is used in post-CAR T outcome studies (e.g. an ASH annual
# meeting abstract of 158 BCMA CAR T recipients, 2017-2024, calling progression within 6 months
# "refractory"); it is a research convention, not a consensus criterion, so it is a parameter.
# Gagelmann et al. (J Clin Oncol 2024, MyCARe model; 269 patients) found a median time to
# relapse of 5 months after BCMA CAR T and poor survival when relapse came within 5 months.
EARLY_RELAPSE_MONTHS: Final = 6

# --------------------------------------------------------------------------- staging
ISS_B2M_STAGE1_BELOW_MG_L: Final = 3.5  # ISS I: beta2-microglobulin < 3.5 mg/L ...
ISS_ALBUMIN_STAGE1_MIN_G_DL: Final = 3.5  # ... and albumin >= 3.5 g/dL
ISS_B2M_STAGE3_MIN_MG_L: Final = 5.5  # ISS III: beta2-microglobulin >= 5.5 mg/L
# R2-ISS points (D'Agostino 2022): ISS II 1, ISS III 1.5, del(17p) 1, high LDH 1, t(4;14) 1,
# 1q gain/amplification 0.5. Groups: I = 0, II = 0.5-1, III = 1.5-2.5, IV = 3-5.
R2ISS_POINTS_ISS2: Final = 1.0
R2ISS_POINTS_ISS3: Final = 1.5
R2ISS_POINTS_DEL17P: Final = 1.0
R2ISS_POINTS_HIGH_LDH: Final = 1.0
R2ISS_POINTS_T4_14: Final = 1.0
R2ISS_POINTS_1Q: Final = 0.5
R2ISS_GROUP_UPPER: Final = ((0.0, 1), (1.0, 2), (2.5, 3), (5.0, 4))  # (max score, group)

# --------------------------------------------------------------------------- ASTCT 2019
FEVER_C: Final = 38.0  # CRS needs temperature >= 38 C (unless masked by tocilizumab/steroids)
LOW_FLOW_MAX_L_MIN: Final = 6.0  # low-flow nasal cannula <= 6 L/min is grade 2
ICE_GRADE1_MIN: Final = 7  # ICE 7-9 grade 1; 3-6 grade 2; 0-2 grade 3; 0 unarousable grade 4
ICE_GRADE2_MIN: Final = 3

# --------------------------------------------------------------------------- renal
CREATININE_UMOL_PER_MG_DL: Final = 88.42  # 1 mg/dL creatinine = 88.42 umol/L
CG_FEMALE_FACTOR: Final = 0.85
CKD_EPI_2021_CONSTANT: Final = 142.0
CKD_EPI_2021_KAPPA_FEMALE: Final = 0.7
CKD_EPI_2021_KAPPA_MALE: Final = 0.9
CKD_EPI_2021_ALPHA_FEMALE: Final = -0.241
CKD_EPI_2021_ALPHA_MALE: Final = -0.302
CKD_EPI_2021_UPPER_EXPONENT: Final = -1.200
CKD_EPI_2021_AGE_BASE: Final = 0.9938
CKD_EPI_2021_FEMALE_FACTOR: Final = 1.012
CG_AGE_CONSTANT: Final = 140.0  # CrCl = (140 - age) x weight / (72 x Scr) [x 0.85 female]
CG_DIVISOR: Final = 72.0

# --------------------------------------------------------------------------- plausibility
# Limits outside which a calculator input cannot be a real adult measurement in the unit asked
# for. They are not clinical cut-offs: they only catch typing and unit mistakes (a Fahrenheit
# temperature, a creatinine in umol/L typed as mg/dL, a weight of 0) so that no grade or
# clearance is computed from them. Chosen wide on purpose (myelonav convention, reviewed
# 2026-12-04).
PLAUSIBLE_TEMPERATURE_C: Final = (30.0, 45.0)
FAHRENHEIT_RANGE: Final = (86.0, 113.0)  # 30-45 C written in F
PLAUSIBLE_CREATININE_MG_DL: Final = (0.1, 30.0)
PLAUSIBLE_WEIGHT_KG: Final = (20.0, 400.0)
ADULT_AGE_YEARS: Final = (18.0, 120.0)  # domain of Cockcroft-Gault and CKD-EPI 2021
PLAUSIBLE_OXYGEN_FLOW_L_MIN: Final = (0.0, 80.0)
PLAUSIBLE_B2M_MG_L: Final = (0.1, 100.0)
PLAUSIBLE_ALBUMIN_G_DL: Final = (0.5, 7.0)
ALBUMIN_G_L_PER_G_DL: Final = 10.0
