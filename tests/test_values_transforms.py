"""Unit tests for value inference (onboard.values) and the transform helpers (onboard.transforms)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from onboard import transforms as t
from onboard import values as v

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def missing_sample(folder: str) -> str:
    return f"real sample folder not found: {REALDATA / folder}"


def column(*cells) -> pd.Series:
    return pd.Series(list(cells), dtype=object)


def errors_for(series: pd.Series) -> t.RowErrors:
    return t.RowErrors(series.index)


# Date formats, decided on whole columns


def test_date_day_first_proven():
    fmt, confidence, _ = v.infer_date_format(["01.02.2020", "13.02.2020", "05.06.2021"])

    assert fmt == "%d.%m.%Y"
    assert confidence > 0.9


def test_date_month_first_proven():
    fmt, confidence, _ = v.infer_date_format(["01/02/2020", "02/13/2020", "05/06/2021"])

    assert fmt == "%m/%d/%Y"
    assert confidence > 0.9


def test_date_ambiguous_assumes_day_first():
    proven = v.infer_date_format(["01/02/2020", "13/04/2020"])
    fmt, confidence, rationale = v.infer_date_format(["01/02/2020", "03/04/2020"])

    assert fmt == "%d/%m/%Y"
    assert confidence < proven[1]
    assert "ambiguous" in rationale


def test_date_ambiguous_dotted_assumes_day_first():
    fmt, confidence, _ = v.infer_date_format(["01.02.2020", "03.04.2020"])

    assert fmt == "%d.%m.%Y"
    assert confidence < 0.9


def test_date_yymmdd_compact():
    fmt, _, _ = v.infer_date_format(["930101", "950315", "981231"])

    assert fmt == "%y%m%d"
    assert v.parse_date_value("930101", fmt) == dt.date(1993, 1, 1)
    assert v.parse_date_value("981231", fmt) == dt.date(1998, 12, 31)


def test_date_time_suffix_ignored():
    values = ["28.06.2013 00:00:30:989", "29.06.2013 10:00:00:000", "01.07.2013 23:59:59:999"]

    fmt, _, _ = v.infer_date_format(values)

    assert fmt == "%d.%m.%Y"
    assert v.parse_date_value(values[0], fmt) == dt.date(2013, 6, 28)


def test_date_iso_with_time():
    fmt, _, _ = v.infer_date_format(["2024-01-02T10:00", "2024-01-31T23:15"])

    assert fmt == "%Y-%m-%d"
    assert v.parse_date_value("2024-01-31T23:15", fmt) == dt.date(2024, 1, 31)


def test_date_one_invalid_still_inferred():
    good = [f"{day:02d}.03.2021" for day in range(10, 19)]
    clean_confidence = v.infer_date_format(good)[1]

    fmt, confidence, rationale = v.infer_date_format(good + ["31.02.2021"])

    assert fmt == "%d.%m.%Y"
    assert confidence < clean_confidence
    assert "1 of 10" in rationale


def test_date_text_not_inferred():
    fmt, confidence, _ = v.infer_date_format(["Miete", "Gehalt", "Kaffee"])

    assert fmt is None
    assert confidence == 0.0


def test_date_blank_column():
    fmt, confidence, rationale = v.infer_date_format(["", "  ", None])

    assert fmt is None
    assert confidence == 0.0
    assert rationale == "no values"


def test_parse_date_rejects_row():
    source = column("28.06.2013", "31.02.2013", "", None)
    errors = errors_for(source)

    out = t.parse_date(source, "booking_date", errors, fmt="%d.%m.%Y")

    assert out.tolist() == ["2013-06-28", None, None, None]
    assert list(errors.reasons) == [1]
    assert errors.reasons[1][0].startswith("booking_date: '31.02.2013'")
    assert "not a date in format %d.%m.%Y" in errors.reasons[1][0]


@pytest.mark.skipif(not (REALDATA / "csv_at_raiffeisen").is_dir(), reason=missing_sample("csv_at_raiffeisen"))
def test_date_raiffeisen_timestamps():
    from onboard.reader import read_table

    table = read_table(REALDATA / "csv_at_raiffeisen" / "raiffeisen.csv")

    fmt, _, _ = v.infer_date_format(table.frame["column_6"].tolist())

    assert fmt == "%d.%m.%Y"


# Number formats, decided on whole columns

NUMBER_CASES = [
    # values, decimal separator, thousands separator, exact value of the first entry
    (["1.500,00"], ",", ".", "1500.00"),
    (["827,75", "2500"], ",", ".", "827.75"),
    (["1,234.56"], ".", ",", "1234.56"),
    (["(1,234.50)"], ".", ",", "-1234.50"),
    (["100,00-"], ",", ".", "-100.00"),
    (["+1,23", "-1.001,00"], ",", ".", "1.23"),
    (["1'000.50"], ".", ",", "1000.50"),
    (["12.30 DR", "4.00 CR"], ".", ",", "-12.30"),
    (["1 500,25"], ",", ".", "1500.25"),
]


@pytest.mark.parametrize(("values", "decimal", "thousands", "first"), NUMBER_CASES, ids=[c[0][0] for c in NUMBER_CASES])
def test_number_format_inferred(values, decimal, thousands, first):
    found = v.infer_number_format(values)

    assert found is not None
    assert found[0] == decimal
    assert found[1] == thousands
    assert v.parse_decimal_value(values[0], found[0], found[1]) == Decimal(first)


@pytest.mark.parametrize(("values", "decimal", "thousands", "first"), NUMBER_CASES, ids=[c[0][0] for c in NUMBER_CASES])
def test_number_parse_exact_decimal(values, decimal, thousands, first):
    parsed = v.parse_decimal_value(values[0], decimal, thousands)

    assert isinstance(parsed, Decimal)
    assert str(parsed) == first


def test_number_integer_only_assumed():
    decimal, _, confidence, rationale = v.infer_number_format(["2500", "100"])

    assert decimal == "."
    assert confidence < 0.9
    assert "assumed" in rationale


def test_number_integer_follows_hint():
    decimal, thousands, _, _ = v.infer_number_format(["2500", "100"], hint_decimal=",")

    assert decimal == ","
    assert thousands == "."


def test_number_mixed_column_2500():
    decimal, thousands, _, _ = v.infer_number_format(["827,75", "2500"])

    assert v.parse_decimal_value("2500", decimal, thousands) == Decimal("2500")


def test_number_text_not_numeric():
    assert v.infer_number_format(["abc", "12a"]) is None
    assert v.infer_number_format(["", " "]) is None


def test_parse_decimal_wrong_separator():
    with pytest.raises(ValueError, match="unexpected ','"):
        v.parse_decimal_value("1,5", ".", "")
    with pytest.raises(ValueError, match="unexpected '.'"):
        v.parse_decimal_value("1.5", ",", "")


def test_parse_decimal_not_number():
    with pytest.raises(ValueError, match="not a number"):
        v.parse_decimal_value("1.2.3", ".", "")


def test_parse_decimal_no_float_drift():
    source = column("0.10", "0.20", "-0.00", "1234567890123456789.01")
    errors = errors_for(source)

    out = t.parse_decimal(source, "amount", errors, decimal=".", thousands=",")

    assert out.tolist() == ["0.10", "0.20", "0.00", "1234567890123456789.01"]
    assert all(isinstance(cell, str) for cell in out)
    assert Decimal(out[0]) + Decimal(out[1]) == Decimal("0.30")
    assert errors.reasons == {}


def test_parse_decimal_bad_cell_rejected():
    source = column("1.500,00", "zwei")
    errors = errors_for(source)

    out = t.parse_decimal(source, "amount", errors, decimal=",", thousands=".")

    assert out.tolist() == ["1500.00", None]
    assert errors.reasons[1][0].startswith("amount: 'zwei'")


def test_negate_flips_sign():
    source = column("1.500,00", "-3,50")

    out = t.negate(source, "amount", errors_for(source), decimal=",", thousands=".")

    assert out.tolist() == ["-1500.00", "3.50"]


# Debit/credit conventions

INDICATOR_CASES = {
    "d_c": (["10,00", "5,50"], ["D", "C"], ["D"], ["C"], ["-10.00", "5.50"]),
    "soll_haben_letters": (["1.500,00", "20,00"], ["S", "H"], ["S", "Soll"], ["H", "Haben"], ["-1500.00", "20.00"]),
    "soll_haben_words": (["1.500,00", "20,00"], ["Soll", "Haben"], ["S", "Soll"], ["H", "Haben"], ["-1500.00", "20.00"]),
    "af_bij": (["12,50", "7,25", "1,00"], ["Af", "Bij", "af"], ["Af"], ["Bij"], ["-12.50", "7.25", "-1.00"]),
    "czech": (["700,00", "900,00", "50,00"], ["PRIJEM", "VYDAJ", "VYBER"], ["VYDAJ", "VYBER"], ["PRIJEM"], ["700.00", "-900.00", "-50.00"]),
    "czech_accents": (["900,00", "700,00", "50,00"], ["Výdaj", "Příjem", "výběr"], ["VYDAJ", "VYBER"], ["PRIJEM"], ["-900.00", "700.00", "-50.00"]),
}


@pytest.mark.parametrize("case", list(INDICATOR_CASES))
def test_sign_from_indicator(case):
    amounts, marks, debit_values, credit_values, expected = INDICATOR_CASES[case]
    amount = column(*amounts)
    errors = errors_for(amount)

    out = t.sign_from_indicator(amount, column(*marks), "amount", errors, debit_values, credit_values, decimal=",", thousands=".")

    assert out.tolist() == expected
    assert errors.reasons == {}


def test_sign_indicator_wins_over_sign():
    amount = column("-10.00", "-5.00")

    out = t.sign_from_indicator(amount, column("D", "C"), "amount", errors_for(amount), ["D"], ["C"])

    assert out.tolist() == ["-10.00", "5.00"]


def test_sign_unknown_mark_rejected():
    amount = column("10.00", "5.00", "3.00")
    errors = errors_for(amount)

    out = t.sign_from_indicator(amount, column("D", "X", ""), "amount", errors, ["D"], ["C"])

    assert out.tolist() == ["-10.00", None, None]
    assert sorted(errors.reasons) == [1, 2]
    assert "'X'" in errors.reasons[1][0]
    assert errors.reasons[1][0].startswith("amount: debit/credit indicator")


def test_pair_debit_or_credit():
    debit = column("1.500,00", "", "34,56", "0,00")
    credit = column("", "200,5", "0,00", "12,23")
    errors = errors_for(debit)

    out = t.debit_credit_pair(debit, credit, "amount", errors, decimal=",", thousands=".")

    assert out.tolist() == ["-1500.00", "200.5", "-34.56", "12.23"]
    assert errors.reasons == {}


def test_pair_both_nonzero_rejected():
    debit = column("5,00", "1,00")
    credit = column("7,00", "")
    errors = errors_for(debit)

    out = t.debit_credit_pair(debit, credit, "amount", errors, decimal=",", thousands=".")

    assert out.tolist() == [None, "-1.00"]
    assert list(errors.reasons) == [0]
    assert "both debit '5,00' and credit '7,00' are non-zero" in errors.reasons[0][0]


def test_pair_both_blank_is_empty():
    debit = column("", None)
    errors = errors_for(debit)

    out = t.debit_credit_pair(debit, column(None, " "), "amount", errors)

    assert out.tolist() == [None, None]
    assert errors.reasons == {}


def test_pair_invalid_number_rejected():
    debit = column("abc")
    errors = errors_for(debit)

    out = t.debit_credit_pair(debit, column(""), "amount", errors)

    assert out.tolist() == [None]
    assert "not a number" in errors.reasons[0][0]


# Czech and Slovak birth numbers

BIRTH_NUMBERS = [
    ("450204", "1945-02-04"),  # man, six digits
    ("706213", "1970-12-13"),  # woman: month 62 is December + 50
    ("706213/1234", "1970-12-13"),
    ("7062131234", "1970-12-13"),
    ("0562131234", "2005-12-13"),  # ten digits below 54: 20YY
    ("0422151234", "2004-02-15"),  # month + 20, issued from 2004
    ("045215123", "1904-02-15"),  # nine digits: always 19YY
]


@pytest.mark.parametrize(("number", "expected"), BIRTH_NUMBERS)
def test_birth_number_valid(number, expected):
    source = column(number)
    errors = errors_for(source)

    out = t.birth_number_to_date(source, "date_of_birth", errors)

    assert out.tolist() == [expected]
    assert errors.reasons == {}


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("701332", "does not encode a valid date"),
        ("000229", "does not encode a valid date"),  # 1900 is not a leap year
        ("7013", "not a birth number"),
        ("70A213", "not a birth number"),
    ],
)
def test_birth_number_invalid(number, reason):
    source = column(number)
    errors = errors_for(source)

    out = t.birth_number_to_date(source, "date_of_birth", errors)

    assert out.tolist() == [None]
    assert reason in errors.reasons[0][0]
    assert errors.reasons[0][0].startswith(f"date_of_birth: {number!r}")


@pytest.mark.skipif(not (REALDATA / "berka_pkdd99").is_dir(), reason=missing_sample("berka_pkdd99"))
def test_birth_number_berka_clients():
    from onboard.reader import read_table

    table = read_table(REALDATA / "berka_pkdd99" / "client.asc")
    errors = errors_for(table.frame["birth_number"])

    out = t.birth_number_to_date(table.frame["birth_number"], "date_of_birth", errors)

    assert errors.reasons == {}
    assert out.notna().all()
    assert out.min() >= "1900-01-01"
    assert out.max() <= "1999-12-31"


# Row ids and row errors


def test_row_hash_stable():
    frame = pd.DataFrame({"date": ["2024-01-02", "2024-01-03"], "amount": ["-5.50", "10.00"]}, dtype=object)

    first = t.row_hash(frame).tolist()
    again = t.row_hash(frame.copy()).tolist()

    assert first == again


def test_row_hash_identical_rows_distinct():
    frame = pd.DataFrame({"date": ["2024-01-02"] * 3, "amount": ["-5.50"] * 3}, dtype=object)

    ids = t.row_hash(frame, prefix="tra").tolist()

    assert len(set(ids)) == 3
    assert all(i.startswith("tra-") for i in ids)


def test_row_hash_value_change():
    before = pd.DataFrame({"amount": ["-5.50"]}, dtype=object)
    after = pd.DataFrame({"amount": ["-5.51"]}, dtype=object)

    assert t.row_hash(before)[0] != t.row_hash(after)[0]


def test_row_errors_column():
    errors = t.RowErrors(pd.Index([10, 11, 12]))

    errors.add(11, "amount", "'x': not a number")
    errors.add(11, "booking_date", "not a date")

    assert errors.column().tolist() == [None, "amount: 'x': not a number; booking_date: not a date", None]
    assert errors.column().index.tolist() == [10, 11, 12]
