"""Batch runs for a health system: many patients at once, locally or on a Dask cluster.

* ``sources``: patients from a folder of FHIR bundles or a FHIR Bulk Data export.
* ``match``: every patient against the trial store into Parquet (resumable, incremental).
* ``imwg``: the cohort IMWG engine over a long lab table, partitioned by patient.
* ``adapter``: the single call into trial matching.
"""
