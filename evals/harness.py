"""Run eval cases through the real graph and score them.

Each case runs in its own temporary ONBOARD_HOME, so no case can reuse another's format.
The approval is answered by the harness under the approver name `eval-harness`, which is
what the audit table records.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pandas as pd

from agents.llm import usage_total
from evals.cases import Case, find_cases
from evals.scoring import cell_accuracy, ranking_scores, score_mapping
from onboard.schema import load_schema

APPROVER = "eval-harness"
REPORT_VERSION = 1


@contextmanager
def _private_home():
    folder = Path(tempfile.mkdtemp(prefix="onboard-eval-"))
    previous = os.environ.get("ONBOARD_HOME")
    os.environ["ONBOARD_HOME"] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop("ONBOARD_HOME", None)
        else:
            os.environ["ONBOARD_HOME"] = previous
        shutil.rmtree(folder, ignore_errors=True)


def _run_and_approve(path: Path, entity: str, defaults: dict[str, str]) -> dict:
    from graph import runner

    summary = runner.start(str(path), entity, "eval", defaults, APPROVER)
    if summary["status"] == "waiting_for_approval":
        summary = runner.answer(summary["thread_id"], {"action": "approve", "by": APPROVER, "comment": "approved by the eval harness"})
    return summary


def run_case(case: Case) -> dict:
    from graph import runner
    from serverless import runtime

    started = time.monotonic()
    result: dict = {"name": case.name, "entity": case.entity, "input": str(case.input), "note": case.note, "tokens": 0, "cost": "0", "proposed_by": "offline"}
    with _private_home():
        try:
            summary = _run_and_approve(case.input, case.entity, case.defaults)
        except Exception as error:  # a case that crashes is scored as failed, the suite goes on
            summary = {"status": "crashed", "error": f"{type(error).__name__}: {error}"}
        result["status"] = summary["status"]
        result["error"] = summary.get("error")
        state = runner.values(summary["thread_id"]) if summary.get("thread_id") else {}
        spec = state.get("spec") or {"mappings": []}
        usage = usage_total(state.get("model_usage"))
        result.update(tokens=usage["total_tokens"], cost=usage["cost"], model_requests=usage["requests"], proposed_by=state.get("proposed_by") or "offline")
        mapping = score_mapping(case, spec)
        result.update({"tp": mapping.tp, "fp": mapping.fp, "fn": mapping.fn, "precision": mapping.precision, "recall": mapping.recall, "f1": mapping.f1, "mappings": mapping.rows})
        result["recall_at_gt"], result["mrr"] = ranking_scores(case, state.get("candidates") or {})

        if case.expected_output:
            expected = pd.read_csv(case.expected_output, dtype=str, keep_default_na=False)
            output_keys = (state.get("execution") or {}).get("output_keys") or []
            store = runtime.store()  # a fetched copy lives as long as its store
            parts = [pd.read_parquet(store.fetch(key)) for key in output_keys]
            output = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
            entity = load_schema().entity(case.entity)
            numeric = {name for name, f in entity.fields.items() if f.type == "decimal"}
            right, checked, mismatches = cell_accuracy(expected, output, numeric)
            result.update({"cells_right": right, "cells_checked": checked, "cell_accuracy": right / checked if checked else 1.0, "cell_mismatches": mismatches})
        if case.second_input:
            try:
                second = runner.start(str(case.second_input), case.entity, "eval", case.defaults, APPROVER)
                result["second_input_recognised"] = bool(second.get("reused_format"))
            except Exception as error:  # scored as not recognised
                result["second_input_recognised"] = False
                result["second_input_error"] = f"{type(error).__name__}: {error}"
    result["wall_time_s"] = round(time.monotonic() - started, 2)
    return result


def _overall(cases: list[dict]) -> dict:
    tp = sum(c["tp"] for c in cases)
    fp = sum(c["fp"] for c in cases)
    fn = sum(c["fn"] for c in cases)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    right = sum(c.get("cells_right", 0) for c in cases)
    checked = sum(c.get("cells_checked", 0) for c in cases)
    seconds = [c for c in cases if "second_input_recognised" in c]
    confident = [m for c in cases for m in c["mappings"] if m["confidence"] is not None and m["confidence"] >= 0.9]
    return {
        "cases": len(cases),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "cell_accuracy": round(right / checked, 4) if checked else None,
        "recall_at_gt": round(sum(c["recall_at_gt"] for c in cases) / len(cases), 4) if cases else None,
        "mrr": round(sum(c["mrr"] for c in cases) / len(cases), 4) if cases else None,
        "second_input_recognised": f"{sum(c['second_input_recognised'] for c in seconds)}/{len(seconds)}",
        "confidence_0_9_right_share": round(sum(m["outcome"].startswith("correct") for m in confident) / len(confident), 4) if confident else None,
        "confidence_0_9_mappings": len(confident),
        "tokens": sum(c["tokens"] for c in cases),
        "cost": str(sum((Decimal(c.get("cost", "0")) for c in cases), Decimal(0))),
        "wall_time_s": round(sum(c["wall_time_s"] for c in cases), 2),
    }


@contextmanager
def _model(name: str | None):
    """Run with ONBOARD_MODEL set to `name`, or with no model at all when it is None."""
    previous = os.environ.pop("ONBOARD_MODEL", None)
    if name:
        os.environ["ONBOARD_MODEL"] = name
    try:
        yield
    finally:
        os.environ.pop("ONBOARD_MODEL", None)
        if previous is not None:
            os.environ["ONBOARD_MODEL"] = previous


def run_suite(roots: list[Path], progress=None, model: str | None = None) -> dict:
    """Run every case, offline or with `model`.

    With a model, the report also splits the overall figures by who proposed each case's spec:
    model, offline-fallback or offline.
    """
    with _model(model):
        report = _run_cases(roots, progress)
    report["mode"] = "model" if model else "offline"
    report["model"] = model
    if model:
        scored = [r for r in report["cases"] if r["status"] != "skipped"]
        proposers = sorted({r["proposed_by"] for r in scored})
        report["overall_by_proposer"] = {who: _overall([r for r in scored if r["proposed_by"] == who]) for who in proposers}
    return report


def _run_cases(roots: list[Path], progress=None) -> dict:
    results = []
    for case in find_cases(roots):
        if not case.input.exists():
            results.append({"name": case.name, "entity": case.entity, "status": "skipped", "error": f"input {case.input} not found"})
            continue
        result = run_case(case)
        results.append(result)
        if progress:
            progress(result)
    scored = [r for r in results if r["status"] != "skipped"]
    return {"version": REPORT_VERSION, "overall": _overall(scored), "skipped": [r["name"] for r in results if r["status"] == "skipped"], "cases": results}


def write_html(report: dict, path: Path) -> None:
    """A self-contained page: the overall figures and each case's mapping table, mistakes in red."""
    e = html.escape
    overall = report["overall"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Mapping eval report</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0 1.5em}",
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}.bad{background:#fdd}.ok{background:#efe}",
        "</style></head><body><h1>Mapping eval report</h1><table>",
    ]
    parts.append(f"<p>mode: {e(report.get('mode', 'offline'))}" + (f", model {e(report['model'])}" if report.get("model") else "") + "</p>")
    for key, value in overall.items():
        parts.append(f"<tr><th>{e(key)}</th><td>{e(str(value))}</td></tr>")
    parts.append("</table>")
    for who, figures in (report.get("overall_by_proposer") or {}).items():
        parts.append(f"<h3>cases whose spec was proposed by: {e(who)}</h3><table>")
        parts += [f"<tr><th>{e(key)}</th><td>{e(str(value))}</td></tr>" for key, value in figures.items()]
        parts.append("</table>")
    for case in report["cases"]:
        if case["status"] == "skipped":
            parts.append(f"<h2>{e(case['name'])} (skipped)</h2><p>{e(case.get('error') or '')}</p>")
            continue
        parts.append(
            f"<h2>{e(case['name'])} — {e(case['entity'])}</h2><p>{e(case.get('note') or '')}<br>"
            f"status {e(case['status'])}; P {case['precision']:.2f} R {case['recall']:.2f} F1 {case['f1']:.2f}; "
            f"cells {case.get('cell_accuracy', 'n/a') if isinstance(case.get('cell_accuracy'), str) else format(case.get('cell_accuracy', 0) or 0, '.3f')}; "
            f"{e(case.get('error') or '')}</p>"
        )
        parts.append("<table><tr><th>target</th><th>gold</th><th>proposed</th><th>confidence</th><th>outcome</th></tr>")
        for row in case["mappings"]:
            css = "ok" if row["outcome"].startswith("correct") else "bad"
            gold = " or ".join("+".join(g) for g in row["gold"]) or "(unmapped)"
            proposed = "+".join(row["proposed"]) if row["proposed"] else "(unmapped)"
            confidence = "" if row["confidence"] is None else f"{row['confidence']:.2f}"
            parts.append(f"<tr class='{css}'><td>{e(row['target'])}</td><td>{e(gold)}</td><td>{e(proposed)}</td><td>{confidence}</td><td>{e(row['outcome'])}</td></tr>")
        parts.append("</table>")
        if case.get("cell_mismatches"):
            parts.append("<details><summary>cell mismatches</summary><table><tr><th>row</th><th>field</th><th>expected</th><th>actual</th></tr>")
            for m in case["cell_mismatches"]:
                parts.append(f"<tr class='bad'><td>{m['row']}</td><td>{e(m['field'])}</td><td>{e(str(m['expected']))}</td><td>{e(str(m['actual']))}</td></tr>")
            parts.append("</table></details>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def write_json(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
