"""What a model may see of a client's file: column profiles and masked samples, never whole files.

A value is masked keeping its shape (letters to X or x, digits to 9, separators kept), so a
model can still tell a date from an IBAN. Only dates (other than birth dates), amounts,
currency codes and short codes such as D/C pass unmasked. Every other column is masked: names,
e-mails, IBANs, account numbers, phone numbers, tax ids, addresses, ids and any free text.
The decision is per column, from the column profile and the matcher's guess of its field.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from onboard.values import shape

SAMPLE_ROWS = 5
SAMPLE_CHARS = 24
NAME_CHARS = 64
# A short code column: few distinct values, each at most this long (D/C, DR/CR, Af/Bij, EUR).
CODE_MAX_LENGTH = 4
CODE_MAX_DISTINCT = 12

AMOUNT_FIELDS = {"amount", "balance", "balance_after", "overdraft_limit"}
# Fields whose values are personal data even when they look like dates or codes.
PERSONAL_FIELDS = {
    "full_name", "given_name", "family_name", "date_of_birth", "tax_id", "email", "phone", "address_line1",
    "address_line2", "city", "postal_code", "iban", "account_number", "counterparty_name", "counterparty_account",
    "customer_id", "account_id", "transaction_id", "reference", "description", "bic",
}


def mask_value(value: str, limit: int = SAMPLE_CHARS) -> str:
    return shape(str(value), limit)


def passes_unmasked(profile: dict, guess: str | None) -> bool:
    """Return whether a column's values may be sent as they are: dates, amounts, currencies, short codes."""
    if guess in PERSONAL_FIELDS:
        return False
    kind = profile.get("inferred_type")
    if kind in ("date", "currency"):
        return True
    if kind == "decimal":
        return guess is None or guess in AMOUNT_FIELDS
    if kind == "integer":
        return guess in AMOUNT_FIELDS
    if kind == "text":
        return profile.get("distinct_count", 0) <= CODE_MAX_DISTINCT and profile.get("max_length", 0) <= CODE_MAX_LENGTH
    return False


def _samples(values: Iterable[str], unmasked: bool) -> list[str]:
    distinct = list(dict.fromkeys(str(x).strip() for x in values if x is not None and str(x).strip()))[:SAMPLE_ROWS]
    if unmasked:
        return [x[:SAMPLE_CHARS] for x in distinct]
    return [mask_value(x) for x in distinct]


def masked_profiles(profiles: list[dict], frame_values: dict[str, list[str]], guesses: dict[str, str]) -> list[dict]:
    """Return one dict per column with what a model may see of it.

    `guesses` maps a column to the target field the offline matcher assigned it, if any.
    """
    out = []
    for profile in profiles:
        name = profile["name"]
        unmasked = passes_unmasked(profile, guesses.get(name))
        row: dict[str, Any] = {
            "column": name[:NAME_CHARS],
            "position": profile.get("position"),
            "inferred_type": profile.get("inferred_type"),
            "null_share": profile.get("null_share"),
            "distinct_count": profile.get("distinct_count"),
            "max_length": profile.get("max_length"),
            "shapes": profile.get("patterns", [])[:3],
            "samples_masked": not unmasked,
            "samples": _samples(frame_values.get(name, []), unmasked),
        }
        for key in ("date_format", "decimal", "thousands", "has_negative"):
            if profile.get(key) not in (None, "", False):
                row[key] = profile[key]
        if unmasked and profile.get("top_values"):
            row["distinct_values"] = [x[:SAMPLE_CHARS] for x in profile["top_values"][:CODE_MAX_DISTINCT]]
        out.append(row)
    return out


QUOTED = re.compile(r"'([^'\n]{1,200})'|\"([^\"\n]{1,200})\"")


def mask_text(text: str, keep: set[str] | frozenset = frozenset()) -> str:
    """Mask every quoted value in an error message, except names in `keep` (columns, fields).

    Error messages of the trial and the validator quote the failing cell, and that cell may be
    personal data.
    NOTE: a value that an exception message shows without quotes passes unmasked.
    """
    def replace(found: re.Match) -> str:
        inner = found.group(1) if found.group(1) is not None else found.group(2)
        quote = "'" if found.group(1) is not None else '"'
        if inner in keep:
            return found.group(0)
        return f"{quote}{mask_value(inner, 40)}{quote}"

    return QUOTED.sub(replace, str(text))


def data_block(data: Any) -> str:
    """Encode client-derived data as JSON between <client_data> tags for the USER message.

    The JSON escapes <, > and &, so no cell or column name can close the block early.
    """
    encoded = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    encoded = encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"<client_data>\n{encoded}\n</client_data>"


def mask_params(mapping: dict, unmasked_columns: set[str]) -> dict:
    """Mask the parameters of a proposed mapping that carry values from the file.

    A constant may come from a line above the table, such as an IBAN. The keys of map_values
    are the column's own values, so they are masked unless the column passes unmasked.
    """
    params = dict(mapping.get("params") or {})
    if mapping.get("transform") == "constant" and "value" in params:
        params["value"] = mask_value(params["value"])
    if mapping.get("transform") == "map_values" and not set(mapping.get("sources") or []) <= unmasked_columns:
        params["mapping"] = {mask_value(k): v for k, v in (params.get("mapping") or {}).items()}
        if "default" in params:
            params["default"] = mask_value(params["default"])
    return params
