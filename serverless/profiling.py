"""Column profiles: what each source column contains, as evidence for the matcher."""

from __future__ import annotations

from collections import Counter

import pandas as pd
from pydantic import BaseModel, Field

from onboard import values as v

SAMPLE_VALUES = 5
INDICATOR_MAX_DISTINCT = 4


class ColumnProfile(BaseModel):
    name: str
    position: int
    inferred_type: str
    null_share: float
    distinct_count: int
    present_count: int = 0
    patterns: list[str] = Field(default_factory=list, description="most common value shapes (letters X, digits 9)")
    masked_samples: list[str] = Field(default_factory=list)
    date_format: str | None = None
    date_confidence: float = 0.0
    date_rationale: str = ""
    date_share: float = Field(0.0, description="share of values that parse with date_format")
    decimal: str | None = None
    thousands: str | None = None
    number_confidence: float = 0.0
    number_rationale: str = ""
    has_negative: bool = False
    all_integer: bool = False
    top_values: list[str] = Field(default_factory=list, description="distinct values of low-cardinality code columns")
    main_country: str | None = Field(None, description="the most common ISO country of a country column")
    max_length: int = 0
    name_like: bool = Field(False, description="values read like personal or company names: two to four capitalised words, no digits")
    phone_like: bool = Field(False, description="every value has 7 to 15 digits in a phone layout")
    digit_share: float = Field(0.0, description="share of digits among the non-space characters of the values")
    country_share: float = Field(0.0, description="share of distinct values that are country names or ISO codes")


def _is_country(value: str) -> bool:
    return 2 <= len(value) <= 60 and v.country_code(value) is not None


def _name_like(values: list[str]) -> bool:
    words = [x.split() for x in values[:500]]
    if not words or any(ch.isdigit() for x in values[:500] for ch in x):
        return False
    shaped = sum(1 for w in words if 2 <= len(w) <= 4 and all(part[:1].isupper() for part in w))
    return shaped >= 0.8 * len(words)


def _non_empty(series: pd.Series) -> list[str]:
    return [str(x).strip() for x in series if x is not None and str(x).strip() != ""]


def profile_column(name: str, position: int, series: pd.Series, hint_decimal: str | None = None) -> ColumnProfile:
    present = _non_empty(series)
    total = len(series)
    distinct = set(present)
    patterns = [p for p, _ in Counter(v.shape(x, 16) for x in present).most_common(3)]
    profile = ColumnProfile(
        name=name,
        position=position,
        inferred_type="empty",
        null_share=round(1 - len(present) / total, 4) if total else 1.0,
        distinct_count=len(distinct),
        present_count=len(present),
        patterns=patterns,
        masked_samples=[v.shape(x) for x in list(dict.fromkeys(present))[:SAMPLE_VALUES]],
        max_length=max((len(x) for x in present), default=0),
    )
    if not present:
        return profile
    profile.phone_like = v.looks_like_phone_numbers(present)
    profile.name_like = _name_like(present)
    characters = "".join(x.replace(" ", "") for x in present[:500])
    profile.digit_share = round(sum(ch.isdigit() for ch in characters) / max(len(characters), 1), 3)

    date_format, date_confidence, date_rationale = v.infer_date_format(present)
    number = v.infer_number_format(present, hint_decimal)
    if number:
        profile.decimal, profile.thousands, profile.number_confidence, profile.number_rationale = number
        parsed = [v.parse_decimal_value(x, profile.decimal, profile.thousands) for x in present]
        profile.has_negative = any(p < 0 for p in parsed)
        profile.all_integer = all(p == p.to_integral_value() and x.lstrip("+-").isdigit() for p, x in zip(parsed, present))
    if date_format:
        profile.date_format, profile.date_confidence, profile.date_rationale = date_format, date_confidence, date_rationale
        profile.date_share = round(sum(n for x, n in Counter(present).items() if v._parses(x, date_format)) / len(present), 3)

    upper = [x.upper() for x in present]
    if all(v.is_email(x) for x in present):
        profile.inferred_type = "email"
    elif all(v.looks_like_iban(x) for x in present):
        profile.inferred_type = "iban"
    elif all(len(x) == 3 and v.is_currency(x) for x in upper):
        profile.inferred_type = "currency"
    elif date_format and profile.date_share >= 0.8 and not (number and profile.all_integer and date_format not in ("%y%m%d", "%Y%m%d")):
        profile.inferred_type = "date"
    elif v.is_phone_column(present):
        profile.inferred_type = "phone"
    elif number:
        profile.inferred_type = "integer" if profile.all_integer else "decimal"
    elif all(v.BIC_SHAPE.match(x) and v.country_code(x[4:6]) for x in present) and len(distinct) <= 20:
        profile.inferred_type = "bic"
    else:
        profile.inferred_type = "text"
    if profile.inferred_type == "text" and len(distinct) <= 500:
        profile.country_share = round(sum(_is_country(x) for x in distinct) / len(distinct), 3)
        if profile.country_share >= 0.8:
            codes = Counter(v.country_code(x) for x in present)
            codes.pop(None, None)
            profile.main_country = codes.most_common(1)[0][0] if codes else None
    if len(distinct) <= max(INDICATOR_MAX_DISTINCT * 3, 12) and profile.inferred_type == "text":
        profile.top_values = [x for x, _ in Counter(present).most_common(12)]
    elif len(distinct) <= INDICATOR_MAX_DISTINCT:
        profile.top_values = sorted(distinct)
    return profile


def profile_table(frame: pd.DataFrame) -> list[ColumnProfile]:
    # First pass: the file's prevailing decimal separator settles columns with no evidence.
    votes = Counter()
    for column in frame.columns:
        number = v.infer_number_format(_non_empty(frame[column]))
        if number and number[2] > 0.9:
            votes[number[0]] += 1
    hint = votes.most_common(1)[0][0] if votes else None
    return [profile_column(str(c), i, frame[c], hint) for i, c in enumerate(frame.columns)]
