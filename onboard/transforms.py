"""Transform helpers that generated scripts call, one per transform of the spec's closed set.

Each helper takes source columns as pandas Series of text and returns a Series of canonical
text: dates as YYYY-MM-DD, amounts as plain decimal strings (exact, never float). A cell that
cannot be converted becomes None and its reason is recorded in `RowErrors`, so the row is
rejected with that reason instead of being dropped or guessed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from decimal import Decimal

import pandas as pd

from onboard import values as v


class RowErrors:
    """Reasons per row index; a row with any reason is rejected."""

    def __init__(self, index: pd.Index):
        self.reasons: dict[object, list[str]] = {}
        self.index = index

    def add(self, row, field: str, message: str) -> None:
        self.reasons.setdefault(row, []).append(f"{field}: {message}")

    def column(self) -> pd.Series:
        return pd.Series(["; ".join(self.reasons.get(i, [])) or None for i in self.index], index=self.index, dtype=object)


def _blank(cell) -> bool:
    return cell is None or (isinstance(cell, float) and cell != cell) or str(cell).strip() == ""


# Distinct cell texts whose conversion is remembered per column; bounds the memo's memory.
MEMO_LIMIT = 100_000


def _apply(column: pd.Series, field: str, errors: RowErrors, convert) -> pd.Series:
    """Convert each cell with `convert`, which must depend on the cell's text alone.

    Dates, currencies and codes repeat down a column, so each distinct text is converted once.
    """
    out = []
    memo: dict[str, tuple[bool, str]] = {}
    for row, cell in zip(column.index, column.tolist()):
        if _blank(cell):
            out.append(None)
            continue
        text = str(cell)
        outcome = memo.get(text)
        if outcome is None:
            try:
                outcome = (True, convert(text))
            except (ValueError, ArithmeticError) as error:
                outcome = (False, str(error))
            if len(memo) < MEMO_LIMIT:
                memo[text] = outcome
        if outcome[0]:
            out.append(outcome[1])
        else:
            errors.add(row, field, f"{cell!r}: {outcome[1]}")
            out.append(None)
    return pd.Series(out, index=column.index, dtype=object)


def copy(column: pd.Series, field: str, errors: RowErrors) -> pd.Series:
    return _apply(column, field, errors, lambda s: s.strip())


def parse_date(column: pd.Series, field: str, errors: RowErrors, fmt: str) -> pd.Series:
    def convert(text: str) -> str:
        try:
            return v.parse_date_value(text, fmt).isoformat()
        except ValueError:
            raise ValueError(f"not a date in format {fmt}") from None

    return _apply(column, field, errors, convert)


def _decimal_text(number: Decimal) -> str:
    # Decimal keeps the sign of zero; a zero amount has none.
    return format(abs(number) if number == 0 else number, "f")


def parse_decimal(column: pd.Series, field: str, errors: RowErrors, decimal: str = ".", thousands: str = "") -> pd.Series:
    return _apply(column, field, errors, lambda s: _decimal_text(v.parse_decimal_value(s, decimal, thousands)))


def negate(column: pd.Series, field: str, errors: RowErrors, decimal: str = ".", thousands: str = "") -> pd.Series:
    return _apply(column, field, errors, lambda s: _decimal_text(-v.parse_decimal_value(s, decimal, thousands)))


def _norm_token(text: str) -> str:
    """Case- and accent-insensitive form of a code value ("Výdaj" and "VYDAJ" compare equal)."""
    decomposed = unicodedata.normalize("NFKD", str(text).strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def sign_from_indicator(
    amount: pd.Series,
    indicator: pd.Series,
    field: str,
    errors: RowErrors,
    debit_values: list[str],
    credit_values: list[str],
    decimal: str = ".",
    thousands: str = "",
) -> pd.Series:
    """Signed amount from an unsigned amount and a debit/credit indicator (D/C, Soll/Haben, ...)."""
    debits = {_norm_token(x) for x in debit_values}
    credits = {_norm_token(x) for x in credit_values}
    out = []
    for row, cell, mark in zip(amount.index, amount.tolist(), indicator.tolist()):
        if _blank(cell):
            out.append(None)
            continue
        try:
            number = abs(v.parse_decimal_value(str(cell), decimal, thousands))
        except ValueError as error:
            errors.add(row, field, f"{cell!r}: {error}")
            out.append(None)
            continue
        token = _norm_token(mark) if not _blank(mark) else ""
        if token in debits:
            out.append(_decimal_text(-number))
        elif token in credits:
            out.append(_decimal_text(number))
        else:
            errors.add(row, field, f"debit/credit indicator {mark!r} is neither of {sorted(debits | credits)}")
            out.append(None)
    return pd.Series(out, index=amount.index, dtype=object)


def debit_credit_pair(
    debit: pd.Series, credit: pd.Series, field: str, errors: RowErrors, decimal: str = ".", thousands: str = ""
) -> pd.Series:
    """Signed amount from a debit column and a credit column: credit minus debit."""
    out = []
    for row, d_cell, c_cell in zip(debit.index, debit.tolist(), credit.tolist()):
        try:
            d_val = abs(v.parse_decimal_value(str(d_cell), decimal, thousands)) if not _blank(d_cell) else None
            c_val = abs(v.parse_decimal_value(str(c_cell), decimal, thousands)) if not _blank(c_cell) else None
        except ValueError as error:
            errors.add(row, field, str(error))
            out.append(None)
            continue
        if d_val is None and c_val is None:
            out.append(None)
        elif d_val and c_val:
            errors.add(row, field, f"both debit {d_cell!r} and credit {c_cell!r} are non-zero")
            out.append(None)
        else:
            out.append(_decimal_text((c_val or Decimal(0)) - (d_val or Decimal(0))))
    return pd.Series(out, index=debit.index, dtype=object)


def concatenate(columns: list[pd.Series], field: str, errors: RowErrors, separator: str = " ") -> pd.Series:
    out = []
    for row in columns[0].index:
        parts = [str(c[row]).strip() for c in columns if not _blank(c[row])]
        out.append(separator.join(parts) if parts else None)
    return pd.Series(out, index=columns[0].index, dtype=object)


def split(column: pd.Series, field: str, errors: RowErrors, separator: str = " ", index: int = 0) -> pd.Series:
    def convert(text: str) -> str | None:
        parts = text.strip().split(separator)
        return parts[index].strip() if -len(parts) <= index < len(parts) else None

    return _apply(column, field, errors, convert)


def map_values(column: pd.Series, field: str, errors: RowErrors, mapping: dict, default: str | None = None) -> pd.Series:
    table = {_norm_token(k): val for k, val in mapping.items()}

    def convert(text: str) -> str | None:
        key = _norm_token(text)
        if key in table:
            return table[key]
        if default is not None:
            return default
        raise ValueError(f"no mapping for value; expected one of {sorted(mapping)}")

    return _apply(column, field, errors, convert)


def country_to_iso(column: pd.Series, field: str, errors: RowErrors) -> pd.Series:
    def convert(text: str) -> str:
        code = v.country_code(text)
        if code is None:
            raise ValueError("not a country name or ISO 3166 code")
        return code

    return _apply(column, field, errors, convert)


def phone_to_e164(column: pd.Series, field: str, errors: RowErrors, default_region: str | None = None, region_column: pd.Series | None = None) -> pd.Series:
    """Phone numbers to E.164; national numbers take the row's country from `region_column`."""
    import phonenumbers

    out = []
    for row, cell in column.items():
        if _blank(cell):
            out.append(None)
            continue
        region = default_region
        if region_column is not None and not _blank(region_column[row]):
            region = v.country_code(str(region_column[row])) or default_region
        try:
            number = phonenumbers.parse(str(cell), region)
        except phonenumbers.NumberParseException as error:
            errors.add(row, field, f"{cell!r}: not a phone number ({error})")
            out.append(None)
            continue
        if not phonenumbers.is_possible_number(number):
            errors.add(row, field, f"{cell!r}: not a possible phone number")
            out.append(None)
            continue
        out.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return pd.Series(out, index=column.index, dtype=object)


def iban_normalize(column: pd.Series, field: str, errors: RowErrors) -> pd.Series:
    return _apply(column, field, errors, lambda s: s.replace(" ", "").replace("-", "").upper())


def birth_number_to_date(column: pd.Series, field: str, errors: RowErrors) -> pd.Series:
    """Date of birth from a Czech or Slovak birth number (YYMMDD[/]XXX[X]).

    Women's months carry +50; numbers issued from 2004 may also carry +20. Six-digit numbers
    were issued before 1954 and nine-digit ones too, so their year is 19YY; ten-digit numbers
    give 19YY for YY >= 54 and 20YY below.
    """

    def convert(text: str) -> str:
        digits = text.replace("/", "").strip()
        if not digits.isdigit() or len(digits) not in (6, 9, 10):
            raise ValueError("not a birth number (YYMMDD with 3 or 4 more digits)")
        yy, mm, dd = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
        for offset in (70, 50, 20, 0):
            if mm > offset:
                mm -= offset
                break
        century = 1900 if len(digits) < 10 or yy >= 54 else 2000
        try:
            return dt.date(century + yy, mm, dd).isoformat()
        except ValueError:
            raise ValueError("birth number does not encode a valid date") from None

    return _apply(column, field, errors, convert)


def constant(index: pd.Index, value: str) -> pd.Series:
    return pd.Series([value] * len(index), index=index, dtype=object)


def coalesce(columns: list[pd.Series], field: str, errors: RowErrors) -> pd.Series:
    out = []
    for row in columns[0].index:
        chosen = next((str(c[row]).strip() for c in columns if not _blank(c[row])), None)
        out.append(chosen)
    return pd.Series(out, index=columns[0].index, dtype=object)


def custom(columns: list[pd.Series], field: str, errors: RowErrors, function) -> pd.Series:
    """Apply a spec's custom function to each row's source cells (texts, "" when blank).

    A row where every source is blank gives None without a call. Any exception of the custom
    code rejects that row with the error as its reason, so one bad cell never stops the script.
    """
    out = []
    for row in columns[0].index:
        cells = ["" if _blank(c[row]) else str(c[row]) for c in columns]
        if not any(cell.strip() for cell in cells):
            out.append(None)
            continue
        try:
            value = function(*cells)
        except Exception as error:  # noqa: BLE001 - the custom code's failure is this row's reason
            errors.add(row, field, f"custom function {function.__name__} failed: {type(error).__name__}: {error}")
            out.append(None)
            continue
        out.append(None if value is None else str(value))
    return pd.Series(out, index=columns[0].index, dtype=object)


def row_hash(frame: pd.DataFrame, prefix: str = "h") -> pd.Series:
    """A stable id from a row's converted values plus its occurrence among identical rows.

    The same file loaded twice yields the same ids, so the load stays idempotent, and two
    genuinely identical rows in one file still get two ids.
    """
    seen: dict[str, int] = {}
    out = []
    for row in frame.itertuples(index=False):
        key = "\x1f".join("" if _blank(x) else str(x) for x in row)
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha256(f"{key}\x1e{seen[key]}".encode("utf-8")).hexdigest()[:24]
        out.append(f"{prefix}-{digest}")
    return pd.Series(out, index=frame.index, dtype=object)
