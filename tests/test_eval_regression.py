"""Regression gate: the eval suites must not fall more than 0.01 below the recorded figures.

The recorded figures live in evals/baseline.json; raise them deliberately, in the commit that
earns them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PROJECT, REALDATA
from evals.harness import run_suite

BASELINE = json.loads((PROJECT / "evals" / "baseline.json").read_text(encoding="utf-8"))
TOLERANCE = 0.01


@pytest.fixture(scope="module")
def reports() -> dict[str, dict]:
    return {}


@pytest.mark.parametrize("suite", sorted(BASELINE))
def test_suite_holds_baseline(suite, reports):
    root = PROJECT / "evals" / "cases" / suite
    if suite == "real" and not REALDATA.exists():
        pytest.skip("real eval cases read ../shared/realdata, which is absent")
    report = run_suite([root])
    overall = report["overall"]
    recorded = BASELINE[suite]
    assert overall["cases"] >= recorded["cases"], f"{suite}: {overall['cases']} cases ran, {recorded['cases']} recorded; skipped: {report['skipped']}"
    assert overall["f1"] >= recorded["f1"] - TOLERANCE, f"{suite}: F1 {overall['f1']} fell below the recorded {recorded['f1']}"
    if recorded.get("cell_accuracy") is not None:
        assert overall["cell_accuracy"] >= recorded["cell_accuracy"] - TOLERANCE, f"{suite}: cell accuracy {overall['cell_accuracy']} fell below {recorded['cell_accuracy']}"
    if recorded.get("confidence_0_9_right_share") is not None:
        assert overall["confidence_0_9_right_share"] >= 0.97, f"{suite}: only {overall['confidence_0_9_right_share']} of mappings with confidence >= 0.9 are right"
