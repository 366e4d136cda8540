"""Scores of one case: mapping precision/recall/F1, Recall@GT, MRR and cell accuracy.

A mapping is a (target field, source column set) pair. Constants and generated ids are not
column mappings and are not scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pandas as pd

from evals.cases import Case
from onboard.spec import is_preamble_column


@dataclass
class MappingScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    rows: list[dict] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def proposed_pairs(spec: dict) -> dict[str, tuple[frozenset[str], float]]:
    # A value from the lines above the table is scored like a constant: it has no table column.
    return {
        m["target"]: (frozenset(m["sources"]), m["confidence"])
        for m in spec.get("mappings", [])
        if m["sources"] and not all(is_preamble_column(s) for s in m["sources"])
    }


def score_mapping(case: Case, spec: dict) -> MappingScore:
    score = MappingScore()
    proposed = proposed_pairs(spec)
    targets = sorted(set(proposed) | set(case.mapping) | set(case.also_accept))
    for target in targets:
        answers = case.accepted(target)
        got = proposed.get(target)
        required = target in case.mapping
        row = {
            "target": target,
            "gold": [sorted(a) for a in answers],
            "proposed": sorted(got[0]) if got else None,
            "confidence": got[1] if got else None,
        }
        if got and got[0] in answers:
            score.tp += 1
            row["outcome"] = "correct"
        elif got:
            score.fp += 1
            if required:
                score.fn += 1
            row["outcome"] = "wrong" if answers else "should be unmapped"
        elif required:
            score.fn += 1
            row["outcome"] = "missed"
        else:
            row["outcome"] = "correct (optional, unmapped)"
        if row["proposed"] is not None or answers:
            score.rows.append(row)
    return score


def ranking_scores(case: Case, candidates: dict[str, list[dict]]) -> tuple[float, float]:
    """Recall@GT and MRR over the ranked candidates.

    Recall@GT: of all (target, column set) candidates ranked by score, the top |GT| are kept;
    the share of gold pairs among them. MRR: per gold target, 1 / rank of the first accepted
    answer in that target's list (0 when absent).
    """
    gold = {(t, cols) for t, cols in case.mapping.items()}
    if not gold:
        return 1.0, 1.0
    flat = sorted(
        ((c["score"], target, frozenset(c["columns"])) for target, ranked in candidates.items() for c in ranked),
        key=lambda item: -item[0],
    )
    top = {(target, cols) for _, target, cols in flat[: len(gold)]}
    recall_at_gt = sum(1 for t, cols in gold if (t, cols) in top or any((t, a) in top for a in case.accepted(t))) / len(gold)
    reciprocal = []
    for target in case.mapping:
        answers = case.accepted(target)
        ranks = [i for i, c in enumerate(candidates.get(target, []), start=1) if frozenset(c["columns"]) in answers]
        reciprocal.append(1 / ranks[0] if ranks else 0.0)
    return recall_at_gt, sum(reciprocal) / len(reciprocal)


def _same(expected: str, actual, numeric: bool) -> bool:
    expected = (expected or "").strip()
    actual = "" if actual is None or (isinstance(actual, float) and actual != actual) else str(actual).strip()
    if numeric and expected and actual:
        try:
            return Decimal(expected) == Decimal(actual)
        except InvalidOperation:
            return False
    return expected == actual


def cell_accuracy(expected: pd.DataFrame, output: pd.DataFrame, numeric_fields: set[str]) -> tuple[int, int, list[dict]]:
    """(right cells, checked cells, first mismatches); rows are matched in file order."""
    right = checked = 0
    mismatches: list[dict] = []
    output = output.sort_values("_line").reset_index(drop=True) if "_line" in output.columns else output.reset_index(drop=True)
    for position in range(len(expected)):
        for column in expected.columns:
            checked += 1
            actual = output.at[position, column] if position < len(output) and column in output.columns else None
            if _same(expected.at[position, column], actual, column in numeric_fields):
                right += 1
            elif len(mismatches) < 20:
                mismatches.append({"row": position + 1, "field": column, "expected": expected.at[position, column], "actual": actual})
    return right, checked, mismatches
