"""Mapping-accuracy evals: sample client formats with their correct mappings."""
