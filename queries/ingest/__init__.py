"""Ingestion core shared by the API and the file import: area-code normalisation and row validation.

Pure functions over polars frames; nothing here writes. The writer (one door, queries.engine.write())
takes `BatchResult.records`, drops duplicates against the pool and records the quarantine.
"""
