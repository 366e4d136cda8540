"""Seeded builders of synthetic eval cases for customer, account and transaction files."""
