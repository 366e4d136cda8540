"""Validate converted rows against the target schema: types, required fields, formats."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal, InvalidOperation

import pandas as pd
from pydantic import BaseModel, Field

from onboard import values as v
from onboard.schema import Entity

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")
ERRORS_COLUMN = "_error"
LINE_COLUMN = "_line"
# Distinct (field, value) results remembered per chunk; bounds the memo's memory.
MEMO_LIMIT = 200_000


class ValidationReport(BaseModel):
    rows_in: int
    rows_valid: int
    rows_rejected: int
    failures_by_field: dict[str, int] = Field(default_factory=dict)
    rejected: list[dict] = Field(default_factory=list, description="line and reasons per rejected row (first ones)")
    missing_columns: list[str] = Field(default_factory=list)
    unexpected_columns: list[str] = Field(default_factory=list)

    @property
    def reject_share(self) -> float:
        return self.rows_rejected / self.rows_in if self.rows_in else 0.0


def _check(field_type: str, text: str, allowed: list[str] | None) -> tuple[str | None, str]:
    """Return (problem or None, normalised value)."""
    if field_type == "date":
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            return "not an ISO date (YYYY-MM-DD)", text
        return None, text
    if field_type == "decimal":
        if not DECIMAL_TEXT.match(text):
            return "not a plain decimal number", text
        try:
            Decimal(text)
        except InvalidOperation:
            return "not a decimal number", text
        return None, text
    if field_type == "currency":
        code = text.strip().upper()
        return (None, code) if v.is_currency(code) else ("not an ISO 4217 currency code", text)
    if field_type == "iban":
        return (None, text) if v.is_iban(text) else ("not a valid IBAN (ISO 13616 checksum)", text)
    if field_type == "bic":
        code = text.strip().upper()
        return (None, code) if v.BIC_SHAPE.match(code) else ("not a BIC (ISO 9362)", text)
    if field_type == "country":
        import pycountry

        code = text.strip().upper()
        return (None, code) if pycountry.countries.get(alpha_2=code) else ("not an ISO 3166-1 alpha-2 code", text)
    if field_type == "email":
        return (None, text) if v.is_email(text) else ("not an e-mail address", text)
    if field_type == "phone":
        return (None, text) if E164.match(text) else ("not an E.164 phone number", text)
    if field_type == "enum":
        return (None, text) if text in (allowed or []) else (f"not one of {allowed}", text)
    return None, text


def validate_rows(output: pd.DataFrame, entity: Entity, sample_limit: int = 50) -> tuple[pd.DataFrame, pd.DataFrame, ValidationReport]:
    """Split script output into valid rows (normalised) and rejected rows with reasons."""
    fields = entity.fields
    present = [c for c in output.columns if c in fields]
    missing = [name for name in fields if name not in output.columns]
    unexpected = [c for c in output.columns if c not in fields and c not in (ERRORS_COLUMN, LINE_COLUMN)]
    failures: Counter[str] = Counter()
    reasons_per_row: list[list[str]] = []
    normalised = {name: [] for name in present}

    # Column lists, not a row object per row: the per-row cost decides how fast a large file runs.
    cells = {name: output[name].tolist() for name in present}
    errors = output[ERRORS_COLUMN].tolist() if ERRORS_COLUMN in output.columns else [None] * len(output)
    checked: dict[tuple[str, str], tuple[str | None, str]] = {}
    for position in range(len(output)):
        reasons = []
        transform_error = errors[position]
        if transform_error:
            reasons.append(str(transform_error))
            for part in str(transform_error).split("; "):
                failures[part.split(":", 1)[0]] += 1
        for name in present:
            cell = cells[name][position]
            text = None if cell is None or (isinstance(cell, float) and cell != cell) else str(cell).strip()
            if not text:
                normalised[name].append(None)
                if fields[name].required and not transform_error:
                    reasons.append(f"{name}: required value missing")
                    failures[name] += 1
                continue
            # Values repeat down a column (currencies, dates, types): each is checked once.
            memo_key = (name, text)
            result = checked.get(memo_key)
            if result is None:
                result = _check(fields[name].type, text, fields[name].values)
                if len(checked) < MEMO_LIMIT:
                    checked[memo_key] = result
            problem, value = result
            normalised[name].append(value)
            if problem:
                reasons.append(f"{name}: {text!r} is {problem}")
                failures[name] += 1
        for name in missing:
            if fields[name].required:
                reasons.append(f"{name}: required field has no mapping")
        reasons_per_row.append(reasons)

    clean = pd.DataFrame(normalised, index=output.index, dtype=object)
    if LINE_COLUMN in output.columns:
        clean.insert(0, LINE_COLUMN, output[LINE_COLUMN].astype(int))
    for name in missing:
        clean[name] = None
    ok_mask = [not r for r in reasons_per_row]
    valid = clean[ok_mask]
    rejected = clean[[not ok for ok in ok_mask]].copy()
    rejected["reason"] = [" | ".join(r) for r in reasons_per_row if r]
    for name in missing:
        if fields[name].required:
            failures[name] += len(output)
    report = ValidationReport(
        rows_in=len(output),
        rows_valid=int(sum(ok_mask)),
        rows_rejected=len(rejected),
        failures_by_field=dict(failures),
        rejected=[
            {"line": int(r[LINE_COLUMN]) if LINE_COLUMN in rejected.columns else None, "reason": r["reason"]}
            for _, r in rejected.head(sample_limit).iterrows()
        ],
        missing_columns=missing,
        unexpected_columns=unexpected,
    )
    return valid, rejected, report
