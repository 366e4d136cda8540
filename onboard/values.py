"""Recognise and parse single values: dates, decimal amounts, IBANs, currency codes, e-mails.

Column-level decisions (which date order, which decimal separator) are made from all of a
column's values by `infer_date_format` and `infer_number_format`, never per row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import pycountry

EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
IBAN_SHAPE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
BIC_SHAPE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
NUMBER_SHAPE = re.compile(r"^[+-]?\(?[+-]?[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202f]*\)?[+-]?(\s?(CR|DR|Cr|Dr))?$")
# Currency marks written around amounts: symbols, ISO 4217 codes and local abbreviations.
def _currency_alternation() -> str:
    return "|".join(sorted(c.alpha_3 for c in pycountry.currencies))


CURRENCY_MARK = rf"(?:[€$£¥₹₽₩₺₪]|US\$|R\$|Kč|zł|Ft|kr|Fr\.|(?:{_currency_alternation()})\b)"
LEADING_MARK = re.compile(rf"^([+-]?\(?)\s*{CURRENCY_MARK}\s*")
TRAILING_MARK = re.compile(rf"\s*{CURRENCY_MARK}\s*(\)?[+-]?)$")
PHONE_SHAPE = re.compile(r"^\+?[\d ()./-]{7,20}$")

# Date formats tried on whole columns, in order of preference when several fit.
DATE_FORMATS = [
    "%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%d.%m.%y", "%d-%m-%Y", "%d/%m/%Y", "%m/%d/%Y",
    "%m-%d-%Y", "%d/%m/%y", "%m/%d/%y", "%Y.%m.%d", "%Y/%m/%d", "%y%m%d", "%d%m%Y",
    "%d-%m-%y", "%m.%d.%Y", "%Y.%m.%d.", "%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%b %d, %Y",
]
DAY_FIRST = {"%d.%m.%Y", "%d.%m.%y", "%d-%m-%Y", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%y", "%d%m%Y"}
MONTH_FIRST = {"%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%m.%d.%Y"}


def date_part(value: str, fmt: str) -> str:
    """Drop a time of day after the date ("28.06.2013 00:00:30:989", "2024-01-02T10:00")."""
    value = value.strip()
    if " " not in fmt and " " in value:
        value = value.split(" ", 1)[0]
    if "T" in value and fmt.startswith("%Y-") and "T" not in fmt:
        value = value.split("T", 1)[0]
    return value


def parse_date_value(value: str, fmt: str) -> dt.date:
    return dt.datetime.strptime(date_part(value, fmt), fmt).date()


COMPACT_LENGTHS = {"%y%m%d": 6, "%Y%m%d": 8, "%d%m%Y": 8}


def _parses(value: str, fmt: str) -> bool:
    # strptime reads "10115" as %y%m%d (2010-01-15); compact dates must have every digit.
    if fmt in COMPACT_LENGTHS and len(date_part(value, fmt)) != COMPACT_LENGTHS[fmt]:
        return False
    try:
        parsed = parse_date_value(value, fmt)
    except ValueError:
        return False
    return fmt == "%y%m%d" or 1900 <= parsed.year <= 2100


def infer_date_format(values: list[str], min_share: float = 0.5) -> tuple[str | None, float, str]:
    """Pick one strptime format for a whole column of dates.

    Returns (format, confidence, rationale). Day/month order is decided by the whole column:
    a first component above 12 anywhere proves day-first, a second above 12 proves
    month-first. A format must parse at least `min_share` of the values; the values it does
    not parse are left to fail as rows, so one bad date does not hide a date column.
    """
    sample = [v.strip() for v in values if v and v.strip()]
    if not sample:
        return None, 0.0, "no values"
    # Each distinct value is parsed once and counted as often as it occurs: a date column
    # repeats its values, and a column of ids or amounts is ruled out on its first values.
    distinct = Counter(sample)
    head = list(distinct)[:200]
    if not any(sum(_parses(x, fmt) for x in head) >= min_share * len(head) * 0.5 for fmt in DATE_FORMATS):
        return None, 0.0, "values are not dates in a known format"
    counts = {fmt: sum(n for x, n in distinct.items() if _parses(x, fmt)) for fmt in DATE_FORMATS}
    best = max(counts.values())
    if best < max(1, min_share * len(sample)):
        return None, 0.0, "values are not dates in a known format"
    fitting = [fmt for fmt in DATE_FORMATS if counts[fmt] == best]
    failing = len(sample) - best
    shortfall = f"; {failing} of {len(sample)} values do not parse and their rows will be rejected" if failing else ""
    scale = best / len(sample)
    if len(fitting) == 1:
        return fitting[0], round(0.97 * scale, 3), f"values parse as {fitting[0]}{shortfall}"
    day_first = [f for f in fitting if f in DAY_FIRST]
    month_first = [f for f in fitting if f in MONTH_FIRST]
    others = [f for f in fitting if f not in DAY_FIRST and f not in MONTH_FIRST]
    if others:
        return others[0], round(0.9 * scale, 3), f"values parse as {others[0]}{shortfall}"
    if day_first and month_first:
        # Both orders fit: no component above 12 appears anywhere in the column.
        return day_first[0], round(0.6 * scale, 3), f"day/month order is ambiguous (no component above 12); assumed day-first {day_first[0]}{shortfall}"
    chosen = (day_first or month_first)[0]
    return chosen, round(0.9 * scale, 3), f"values parse as {chosen}{shortfall}"


def _strip_marks(value: str) -> str:
    return TRAILING_MARK.sub(r"\1", LEADING_MARK.sub(r"\1", value.strip()))


def _clean_number(value: str) -> tuple[str, bool]:
    """Strip sign marks that banks put around numbers; return (digits and separators, negative)."""
    text = value.strip().replace("\u00a0", " ").replace("\u202f", " ")
    text = LEADING_MARK.sub(r"\1", text)
    text = TRAILING_MARK.sub(r"\1", text)
    negative = False
    upper = text.upper()
    if upper.endswith("DR") or upper.endswith("CR"):
        negative = upper.endswith("DR")
        text = text[:-2].strip()
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text.endswith("-"):
        negative, text = not negative, text[:-1].strip()
    elif text.endswith("+"):
        text = text[:-1].strip()
    if text.startswith("-"):
        negative, text = not negative, text[1:].strip()
    elif text.startswith("+"):
        text = text[1:].strip()
    return text, negative


def parse_decimal_value(value: str, decimal: str = ".", thousands: str = "") -> Decimal:
    """Parse bank-formatted text to an exact Decimal; raise ValueError when it is not a number."""
    text, negative = _clean_number(value)
    if thousands:
        text = text.replace(thousands, "")
    text = text.replace(" ", "").replace("'", "")
    if decimal != ".":
        if "." in text:
            raise ValueError(f"unexpected '.' in {value!r} with decimal separator {decimal!r}")
        text = text.replace(decimal, ".")
    elif "," in text:
        raise ValueError(f"unexpected ',' in {value!r} with decimal separator '.'")
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", text):
        raise ValueError(f"not a number: {value!r}")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    return -number if negative else number


def infer_number_format(values: list[str], hint_decimal: str | None = None) -> tuple[str, str, float, str] | None:
    """Decide (decimal separator, thousands separator) for a whole column, or None if not numeric."""
    sample = [v.strip() for v in values if v and v.strip()]
    if not sample or not all(NUMBER_SHAPE.match(_strip_marks(v)) for v in sample):
        return None
    comma_decimal = dot_decimal = 0
    for v in sample:
        text, _ = _clean_number(v)
        commas, dots = text.count(","), text.count(".")
        if commas and dots:
            if text.rfind(",") > text.rfind("."):
                comma_decimal += 10
            else:
                dot_decimal += 10
        elif commas > 1:
            dot_decimal += 10
        elif dots > 1:
            comma_decimal += 10
        elif commas == 1 and len(text) - text.rfind(",") - 1 != 3:
            comma_decimal += 1
        elif dots == 1 and len(text) - text.rfind(".") - 1 != 3:
            dot_decimal += 1
        # One separator followed by exactly three digits ("1,500") is a vote for neither.
    if comma_decimal > dot_decimal:
        decimal, thousands = ",", "."
        why = "comma as decimal separator (seen in the values)"
        confidence = 0.95
    elif dot_decimal > comma_decimal:
        decimal, thousands = ".", ","
        why = "point as decimal separator (seen in the values)"
        confidence = 0.95
    else:
        decimal = hint_decimal or "."
        thousands = "." if decimal == "," else ","
        why = f"no value shows the decimal separator; assumed {decimal!r} from the file's other columns"
        confidence = 0.75
    try:
        for v in sample:
            parse_decimal_value(v, decimal, thousands)
    except ValueError:
        return None
    return decimal, thousands, confidence, why


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def is_currency(value: str) -> bool:
    return value.strip().upper() in currency_codes() and len(value.strip()) == 3


def is_iban(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if not IBAN_SHAPE.match(compact):
        return False
    from schwifty import IBAN

    try:
        IBAN(compact)
    except ValueError:
        return False
    return True


def looks_like_iban(value: str) -> bool:
    """IBAN shape without the checksum: test exports often carry masked or dummy IBANs."""
    return bool(IBAN_SHAPE.match(value.replace(" ", "").upper()))


def looks_like_phone_numbers(values: list[str]) -> bool:
    """7 to 15 digits in a phone layout. Only a header naming phones makes such a column a phone column."""
    if not values or not all(PHONE_SHAPE.match(x) for x in values):
        return False
    return all(7 <= sum(ch.isdigit() for ch in x) <= 15 for x in values)


def is_phone_column(values: list[str]) -> bool:
    """Phone numbers by their values alone: the phone layout, most with a + or a trunk prefix 0."""
    if not looks_like_phone_numbers(values):
        return False
    prefixed = sum(1 for x in values if x.lstrip("(").startswith(("+", "0")))
    return prefixed >= 0.5 * len(values)


def is_email(value: str) -> bool:
    return bool(EMAIL.match(value.strip()))


def shape(value: str, limit: int = 24) -> str:
    """Mask a value keeping its shape: letters to X, digits to 9, other characters kept."""
    out = []
    for ch in value[:limit]:
        if ch.isdigit():
            out.append("9")
        elif ch.isalpha():
            out.append("X" if ch.isupper() else "x")
        else:
            out.append(ch)
    return "".join(out) + ("…" if len(value) > limit else "")


COUNTRY_NAME_LANGUAGES = ("de", "fr", "nl", "es", "it", "cs", "pl", "pt", "hu", "sv", "da", "fi", "sk", "ro")


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Country names in English and the languages above, accent-folded, to ISO 3166-1 alpha-2.

    Built from pycountry's own gettext translations of ISO 3166-1.
    """
    import gettext

    names: dict[str, str] = {}
    translations = []
    for language in COUNTRY_NAME_LANGUAGES:
        try:
            translations.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]))
        except OSError:
            continue
    for country in pycountry.countries:
        english = [country.name, getattr(country, "official_name", None), getattr(country, "common_name", None)]
        for name in filter(None, english):
            names.setdefault(_fold(name), country.alpha_2)
            for translation in translations:
                names.setdefault(_fold(translation.gettext(name)), country.alpha_2)
    return names


def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a country code or name in one of the known languages."""
    text = value.strip()
    if len(text) == 2 and pycountry.countries.get(alpha_2=text.upper()):
        return text.upper()
    if len(text) == 3 and text.isalpha() and pycountry.countries.get(alpha_3=text.upper()):
        return pycountry.countries.get(alpha_3=text.upper()).alpha_2
    found = country_names().get(_fold(text))
    if found:
        return found
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None
