"""Pure clinical calculators (no I/O): every threshold lives in ``thresholds`` with its source.

* ``imwg``     — IMWG 2016 response and progression over a dated series (scalar engine)
* ``cohort``   — the same rules vectorised with polars for registries
* ``car_t``    — best response, progression, TTP, DOR and relapse class for a CAR T episode
* ``staging``  — ISS, R-ISS, R2-ISS
* ``astct``    — ASTCT CRS and ICANS grades, ICE score
* ``renal``    — Cockcroft-Gault and CKD-EPI 2021
"""
