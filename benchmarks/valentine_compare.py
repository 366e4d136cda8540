"""Compare the offline matcher with Valentine's offline schema matchers on the eval cases.

Run from the repository root in an environment with the benchmark extra:

    python -m venv .bench && .bench/bin/pip install -e '.[benchmark]'
    .bench/bin/python benchmarks/valentine_compare.py --cases evals/cases --out BENCHMARKS.md

For each case the second table is the target schema of the case's entity: one column per
target field, holding the case's expected converted values where the case has
expected.csv (empty otherwise), so Valentine's instance-based matchers get the correct
target values, which favours them. Valentine proposes single columns only, so a gold answer
built from two columns (a debit/credit pair, an amount with its sign column) is a miss for
it. Our figures are the analyst's offline proposal, the same spec the graph puts up for
approval before any reviewer round. Cupid and COMA with instances are left out because they
download NLTK data at run time and this benchmark runs offline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import logging
import platform
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.analyst import propose, ranked_candidates  # noqa: E402
from evals.cases import Case, find_cases  # noqa: E402
from evals.scoring import ranking_scores, score_mapping  # noqa: E402
from onboard.reader import read_table  # noqa: E402
from onboard.schema import load_schema  # noqa: E402
from serverless.profiling import profile_table  # noqa: E402


def _target_table(case: Case) -> pd.DataFrame:
    fields = list(load_schema().entity(case.entity).fields)
    if case.expected_output and case.expected_output.exists():
        expected = pd.read_csv(case.expected_output, dtype=str, keep_default_na=False)
        return pd.DataFrame({f: expected[f] if f in expected.columns else [""] * len(expected) for f in fields})
    return pd.DataFrame({f: [""] for f in fields})


def _ours(case: Case, table) -> tuple[dict, dict]:
    profiles = profile_table(table.frame)
    values = {c: [str(x) for x in table.frame[c]] for c in table.frame.columns}
    spec, result = propose(profiles, values, table.source, entity=case.entity, defaults=case.defaults)
    return spec.model_dump(mode="json"), ranked_candidates(result, spec)


def _valentine(case: Case, table, matcher) -> tuple[dict, dict]:
    from valentine import valentine_match

    source = table.frame.copy()
    source.columns = [str(c) for c in source.columns]
    results = valentine_match([source, _target_table(case)], matcher, df_names=["source", "target"])
    ranked: dict[str, list[dict]] = {}
    for pair, score in sorted(results.items(), key=lambda item: -item[1]):
        ranked.setdefault(pair.target_column, []).append({"columns": [pair.source_column], "score": float(score)})
    chosen = results.one_to_one_hungarian() if hasattr(results, "one_to_one_hungarian") else results.one_to_one()
    mappings = [{"target": p.target_column, "sources": [p.source_column], "confidence": float(s)} for p, s in chosen.items() if s > 0]
    return {"mappings": mappings}, ranked


def _matchers() -> dict:
    from valentine.algorithms import Coma, DistributionBased, JaccardDistanceMatcher, SimilarityFlooding

    return {
        "COMA (names)": lambda: Coma(use_instances=False),
        "Similarity Flooding": SimilarityFlooding,
        "Jaccard distance": JaccardDistanceMatcher,
        "Distribution-based": DistributionBased,
    }


def evaluate(cases: list[Case]) -> dict[str, dict]:
    totals: dict[str, dict] = {}
    tables = {}
    for case in cases:
        try:
            tables[case.name] = read_table(case.input)
        except Exception as error:  # a case the reader cannot open counts for no one
            logging.warning("skipping %s: %s", case.name, error)
    runners = {"onboarding-agents (offline)": lambda case, table: _ours(case, table)}
    for name, make in _matchers().items():
        runners[name] = lambda case, table, make=make: _valentine(case, table, make())
    for name, run in runners.items():
        tp = fp = fn = 0
        recall_at_gt = mrr = 0.0
        scored = 0
        started = time.monotonic()
        for case in cases:
            if case.name not in tables:
                continue
            try:
                spec, ranked = run(case, tables[case.name])
            except Exception as error:  # a matcher that fails on a case scores nothing on it
                logging.warning("%s failed on %s: %s", name, case.name, error)
                spec, ranked = {"mappings": []}, {}
            score = score_mapping(case, spec)
            tp, fp, fn = tp + score.tp, fp + score.fp, fn + score.fn
            r_at_gt, reciprocal = ranking_scores(case, ranked)
            recall_at_gt += r_at_gt
            mrr += reciprocal
            scored += 1
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        totals[name] = {
            "precision": precision,
            "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "recall_at_gt": recall_at_gt / scored if scored else 0.0,
            "mrr": mrr / scored if scored else 0.0,
            "cases": scored,
            "seconds": time.monotonic() - started,
        }
    return totals


def render(groups: dict[str, dict[str, dict]], command: str) -> str:
    versions = {p: importlib.metadata.version(p) for p in ("valentine", "pandas", "onboarding-agents")}
    lines = [
        "# Benchmarks",
        "",
        "## Schema matching: onboarding-agents against Valentine",
        "",
        f"Run on {dt.date.today().isoformat()} with `{command}` on {platform.machine()} "
        f"({platform.python_implementation()} {platform.python_version()}); "
        + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "Scores are over (target field, source column set) pairs after each matcher's one-to-one assignment;",
        "Recall@GT and MRR use each matcher's ranked candidates. Seconds are one pass over the cases, not a median.",
        "",
    ]
    for group, totals in groups.items():
        lines += [f"### {group}", "", "| matcher | precision | recall | F1 | Recall@GT | MRR | cases | seconds |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name, t in totals.items():
            lines.append(f"| {name} | {t['precision']:.3f} | {t['recall']:.3f} | {t['f1']:.3f} | {t['recall_at_gt']:.3f} | {t['mrr']:.3f} | {t['cases']} | {t['seconds']:.1f} |")
        best = max((t["f1"] for n, t in totals.items() if not n.startswith("onboarding")), default=0.0)
        ours = totals["onboarding-agents (offline)"]["f1"]
        lines += ["", f"F1 margin over the best Valentine matcher: {ours - best:+.3f}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=Path, action="append", help="case folders (default: evals/cases/generated and evals/cases/real)")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    roots = args.cases or [Path("evals/cases/generated"), Path("evals/cases/real")]
    groups = {}
    for root in roots:
        cases = [c for c in find_cases([root]) if c.input.exists()]
        if cases:
            groups[f"{root} ({len(cases)} cases)"] = evaluate(cases)
    command = "python benchmarks/valentine_compare.py " + " ".join(sys.argv[1:])
    args.out.write_text(render(groups, command.strip()) + "\n", encoding="utf-8")
    print(args.out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
