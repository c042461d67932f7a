"""Crosswalks: load, check against the schema and the data."""
