"""Curated evidence as data: option files in ``data/options``, their schema and loader."""
