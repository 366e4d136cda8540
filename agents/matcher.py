"""Offline schema matcher: source columns to target fields, one-to-one.

Evidence comes from header names, normalised and compared with a multilingual lexicon of
banking terms, and from the column profiles (dates, amounts, IBANs, currency codes, e-mails).
The final assignment maximises the total score with the Hungarian method, so no column
serves two fields and no field takes two columns, except the multi-column transforms
(debit/credit pairs, amount with a sign indicator) that are settled before it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import linear_sum_assignment

from onboard.schema import Entity
from serverless.profiling import ColumnProfile

LEXICON_PATH = Path(__file__).parent / "lexicon.yaml"
ACCEPT_SCORE = 0.4
# One-word terms too general to count when they are only part of a longer header:
# "Glaeubiger ID" is not a transaction id, "Datum" alone is a booking date.
GENERIC_TERMS = {"id", "date", "datum", "data", "fecha", "name", "naam", "nom", "nombre", "type", "typ", "tipo", "text", "value", "number", "status", "state", "konto", "account", "balance", "saldo"}
INDICATOR_HEADER_HINTS = ("debit", "debet", "credit", "soll", "haben", "af bij", "sign", "indicator", "type", "typ", "kennzeichen", "richting", "sens", "cd", "dc", "dr cr", "s h", "h s", "d c", "c d", "mark")


@lru_cache(maxsize=1)
def lexicon() -> dict:
    with LEXICON_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def normalise(text: str) -> str:
    """Lower-case words without accents or punctuation, with abbreviations expanded."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(text))
    text = re.sub(r"([A-Za-z])(\d)", r"\1 \2", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("ß", "ss").lower()
    tokens = re.sub(r"[^a-z0-9]+", " ", text).split()
    # Standards prefix field names with their tag ("25.account", "61.amount"): drop it.
    while len(tokens) > 1 and tokens[0].isdigit():
        tokens = tokens[1:]
    # A currency code beside a name ("Betrag (EUR)", "Saldo EUR") gives the unit, not the field.
    if len(tokens) > 1:
        tokens = [t for t in tokens if not (len(t) == 3 and t.upper() in _currency_codes())] or tokens
    abbreviations = lexicon()["abbreviations"]
    expanded = []
    for token in tokens:
        expanded.extend(abbreviations.get(token, token).split())
    return " ".join(expanded)


@lru_cache(maxsize=1)
def _currency_codes() -> frozenset[str]:
    from onboard.values import currency_codes

    return currency_codes()


def _compact(text: str) -> str:
    return text.replace(" ", "")


def name_score(header: str, terms: list[str]) -> tuple[float, str]:
    """Best similarity of a header to any term, with the term that gave it."""
    h = normalise(header)
    h_compact, h_tokens = _compact(h), set(h.split())
    best, best_term = 0.0, ""
    for raw_term in terms:
        t = normalise(raw_term)
        t_compact = _compact(t)
        if not t_compact:
            continue
        if h == t or h_compact == t_compact:
            score = 1.0
        elif set(t.split()) <= h_tokens:
            score = 0.6 + 0.3 * len(t.split()) / max(len(h_tokens), 1)
            if t in GENERIC_TERMS:
                score = 0.35
        elif len(t_compact) >= 4 and t_compact in h_compact:
            score = 0.5 + 0.35 * len(t_compact) / len(h_compact)
        else:
            ratio = difflib.SequenceMatcher(None, h_compact, t_compact).ratio()
            score = 0.8 * ratio if ratio >= 0.9 else 0.0
        if score > best:
            best, best_term = score, raw_term
    return best, best_term


def _is_birth_number(profile: ColumnProfile) -> bool:
    return profile.inferred_type == "integer" and all(len(p.replace("9", "").strip()) == 0 and len(p) in (6, 9, 10) for p in profile.patterns)


def type_factor(target_type: str, target_name: str, profile: ColumnProfile, key: str | None = None) -> float:
    """How well a column's values fit a target field's type, in [0, 1]."""
    kind = profile.inferred_type
    if kind == "empty":
        return 0.0
    if target_type == "date":
        if kind == "date" or profile.date_format:
            return 1.0
        if target_name == "date_of_birth" and _is_birth_number(profile):
            return 0.9
        return 0.0
    if target_type == "decimal":
        return 1.0 if kind in ("decimal", "integer") else 0.0
    if target_type == "currency":
        return 1.0 if kind == "currency" else 0.0
    if target_type == "email":
        return 1.0 if kind == "email" else 0.0
    if target_type == "iban":
        return 1.0 if kind == "iban" else 0.2
    if target_type == "bic":
        return 1.0 if kind == "bic" else 0.4
    if target_type == "phone":
        if kind == "phone":
            return 1.0
        return 0.8 if profile.phone_like else {"text": 0.5, "integer": 0.5}.get(kind, 0.1)
    if target_type == "country":
        return 1.0 if kind in ("text", "currency") and profile.max_length <= 60 else 0.2
    if target_type == "enum":
        return 1.0 if kind == "text" and profile.distinct_count <= 12 else 0.2
    if target_name == key and profile.distinct_count > 1:
        # The entity's key identifies rows, so its values are (nearly) all different.
        unique_share = profile.distinct_count / max(profile.present_count, 1)
        if unique_share < 0.9:
            return 0.1
    if target_name.endswith("_id") or target_name in ("account_number", "reference"):
        return {"integer": 1.0, "text": 0.9, "iban": 0.9, "decimal": 0.2, "date": 0.1}.get(kind, 0.5)
    if target_name == "counterparty_account":
        return {"iban": 1.0, "text": 0.9, "integer": 0.8}.get(kind, 0.1)
    return {"text": 1.0, "integer": 0.5, "iban": 0.6, "bic": 0.5, "currency": 0.3, "decimal": 0.2, "date": 0.1, "phone": 0.3}.get(kind, 0.5)


def value_evidence(entity: str, target_name: str, target_type: str, profile: ColumnProfile, date_rank: int | None = None, key: str | None = None) -> float:
    """A score from values alone, for headers the lexicon does not know.

    `date_rank` is the column's position among the file's date columns: exports put the
    booking date before the value date, so the first date column leans to booking_date.
    """
    kind = profile.inferred_type
    if target_name == key and profile.position == 0 and kind in ("integer", "text") and profile.null_share == 0 and profile.distinct_count == profile.present_count:
        # The first column with a distinct value on every row is usually the record id.
        return 0.45
    if profile.name_like and profile.distinct_count >= 3 and (target_name == "full_name" or target_name == "counterparty_name"):
        return 0.42
    if target_type == "iban" and kind == "iban":
        return 0.55
    if target_type == "currency" and kind == "currency":
        return 0.6
    if target_type == "email" and kind == "email":
        return 0.7
    if target_type == "phone" and kind == "phone":
        return 0.6
    if target_type == "bic" and kind == "bic":
        return 0.5
    if target_type == "country" and kind == "text" and profile.country_share >= 0.9:
        return 0.6
    if kind == "date" and target_name in ("booking_date", "opened_on"):
        return 0.42 - 0.01 * min(date_rank or 0, 5)
    if kind == "date" and target_name == "date_of_birth":
        return 0.3
    if kind == "date" and target_name == "value_date":
        return 0.41 if date_rank == 1 else 0.38
    if target_name == "amount" and kind == "decimal":
        return 0.45 if profile.has_negative else 0.41
    if target_name == "balance" and kind == "decimal":
        return 0.41
    if target_name == "balance_after" and kind == "decimal":
        return 0.39
    if target_name == "description" and kind == "text" and profile.max_length >= 20 and profile.digit_share < 0.5:
        # The longest free text in a file is usually the payment details.
        return 0.41 + min(0.05, profile.max_length / 4000)
    if target_name == "account_id" and entity == "transaction" and profile.distinct_count == 1 and profile.null_share == 0 and profile.max_length >= 5 and (kind in ("iban", "integer") or profile.digit_share >= 0.5):
        # One account number on every row is the statement's own account.
        return 0.5
    if target_name == "counterparty_account" and kind == "iban" and profile.distinct_count > 1:
        return 0.42
    return 0.0


@dataclass
class Candidate:
    column: str
    score: float
    evidence: str


@dataclass
class MatchResult:
    assigned: dict[str, Candidate]
    ranked: dict[str, list[Candidate]]
    amount_pair: tuple[str, str] | None = None
    indicator: tuple[str, list[str], list[str]] | None = None
    notes: list[str] = field(default_factory=list)


def _indicator_tokens() -> tuple[set[str], set[str]]:
    marks = lexicon()["indicators"]
    return {normalise(x) or x for x in marks["debit"]}, {normalise(x) or x for x in marks["credit"]}


def find_indicator(profiles: list[ColumnProfile], frame_values: dict[str, list[str]]) -> tuple[str, list[str], list[str]] | None:
    """A column whose values are debit or credit marks, such as D/C, Soll/Haben, PRIJEM/VYDAJ.

    At least 80% of the rows must carry a known mark; rows with an unknown mark are then
    rejected by the transform with that mark named, rather than loaded without a sign.
    """
    debit, credit = _indicator_tokens()
    for profile in profiles:
        if profile.inferred_type not in ("text",) or not (1 <= profile.distinct_count <= 6):
            continue
        present = [x.strip() for x in frame_values[profile.name] if x.strip()]
        tokens = {x: (normalise(x) or x) for x in set(present)}
        known = {x for x, t in tokens.items() if t in debit or t in credit}
        if not known or sum(1 for x in present if x in known) < 0.8 * len(present):
            continue
        header = normalise(profile.name)
        if not (any(len(x) > 2 for x in known) or any(h in header for h in INDICATOR_HEADER_HINTS)):
            continue
        # The marks seen in this file plus every mark of the lexicon (the two lists are
        # disjoint), so a later file of the format with the other mark still converts: a
        # statement with only debits "D" is followed by one with credits "C".
        marks = lexicon()["indicators"]
        debit_values = sorted({x for x in known if tokens[x] in debit} | {x.upper() if len(x) <= 4 else x for x in marks["debit"]})
        credit_values = sorted({x for x in known if tokens[x] in credit} | {x.upper() if len(x) <= 4 else x for x in marks["credit"]})
        return profile.name, debit_values, credit_values
    return None


def find_amount_pair(profiles: list[ColumnProfile]) -> tuple[str, str] | None:
    """Separate debit and credit amount columns (Soll/Haben, Af/Bij, Uscite/Entrate)."""
    lex = lexicon()
    debit_col = credit_col = None
    best_debit = best_credit = 0.0
    for profile in profiles:
        if profile.inferred_type not in ("decimal", "integer", "empty"):
            continue
        d_score, _ = name_score(profile.name, lex["debit_columns"])
        c_score, _ = name_score(profile.name, lex["credit_columns"])
        if d_score >= 0.85 and d_score > c_score and d_score > best_debit:
            debit_col, best_debit = profile.name, d_score
        elif c_score >= 0.85 and c_score > d_score and c_score > best_credit:
            credit_col, best_credit = profile.name, c_score
    if debit_col and credit_col:
        return debit_col, credit_col
    return None


def _prefer_currency_next_to_amount(targets: list[str], columns: list[ColumnProfile], scores: np.ndarray, profiles: list[ColumnProfile]) -> None:
    """Among equally good currency columns, prefer the one beside the amount column.

    Exports that repeat a currency header (one for the balance, one for the amount) put each
    next to the number it qualifies.
    """
    if "currency" not in targets or "amount" not in targets:
        return
    i_currency, i_amount = targets.index("currency"), targets.index("amount")
    best_amount = int(np.argmax(scores[i_amount])) if scores[i_amount].any() else None
    if best_amount is None:
        return
    position = columns[best_amount].position
    for j, profile in enumerate(columns):
        if scores[i_currency, j] > 0 and abs(profile.position - position) == 1:
            scores[i_currency, j] += 0.02


def match(entity: Entity, profiles: list[ColumnProfile], frame_values: dict[str, list[str]], exclude: set[tuple[str, str]] | None = None) -> MatchResult:
    """Rank candidate columns per target field and assign them one-to-one.

    `exclude` contains (target, column) pairs that a reviewer or a person ruled out.
    """
    exclude = exclude or set()
    terms = lexicon()["fields"]
    reserved: set[str] = set()
    result = MatchResult(assigned={}, ranked={})

    if entity.amount_field:
        pair = find_amount_pair(profiles)
        if pair and (entity.amount_field, ",".join(pair)) not in exclude:
            result.amount_pair = pair
            reserved.update(pair)
        indicator = find_indicator(profiles, frame_values)
        if indicator and not pair:
            result.indicator = indicator
            reserved.add(indicator[0])

    targets = [name for name in entity.fields if not (name == entity.amount_field and result.amount_pair)]
    columns = [p for p in profiles if p.name not in reserved]
    date_ranks = {p.name: rank for rank, p in enumerate(p for p in profiles if p.inferred_type == "date")}
    scores = np.zeros((len(targets), len(columns)))
    evidence: dict[tuple[int, int], str] = {}
    for i, target in enumerate(targets):
        spec = entity.fields[target]
        ranked = []
        for j, profile in enumerate(columns):
            if (target, profile.name) in exclude:
                continue
            n_score, term = name_score(profile.name, terms.get(target, [target.replace("_", " ")]))
            if target == entity.key and normalise(profile.name) == "id" and n_score < 0.9:
                # A bare "id" is the record's own identifier.
                n_score, term = 0.9, "id"
            factor = type_factor(spec.type, target, profile, entity.key)
            by_name = n_score * factor
            by_value = value_evidence(entity.name, target, spec.type, profile, date_ranks.get(profile.name), entity.key) * (1.0 if factor > 0 else 0.0)
            score = max(by_name, by_value)
            if score <= 0:
                continue
            if by_name >= by_value:
                why = f"header matches {term!r} ({n_score:.2f}), values fit {spec.type} ({factor:.1f})"
            else:
                why = f"values look like {spec.type} ({profile.inferred_type}, {', '.join(profile.patterns[:1])})"
            # A required field wins a tie with an optional one for the same column.
            scores[i, j] = score + (0.01 if spec.required else 0.0)
            evidence[(i, j)] = why
            ranked.append(Candidate(profile.name, round(score, 3), why))
        result.ranked[target] = sorted(ranked, key=lambda c: -c.score)

    _prefer_currency_next_to_amount(targets, columns, scores, profiles)
    if targets and columns:
        rows, cols = linear_sum_assignment(-scores)
        for i, j in zip(rows, cols):
            if scores[i, j] >= ACCEPT_SCORE:
                result.assigned[targets[i]] = Candidate(columns[j].name, round(float(scores[i, j]), 3), evidence[(i, j)])
    return result
