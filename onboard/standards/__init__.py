"""Readers for banking file standards that return one table per entity the file carries."""
