"""The reviewer: import check, sandbox trial on a sample, validation against the target schema.

Offline strategy: fixed rules. A problem names the field and, where it helps the analyst,
the (field, column) pair to rule out in the next round.
"""

from __future__ import annotations

from tools import tool_by_name

PROMPT = """You are the reviewer of a bank's client-onboarding team. Check the script's trial
output against the target schema and say, per field, what is wrong and what to change."""

# A field whose trial values fail this often is sent back to the analyst to try another
# column. Below this share the column is kept, and its bad rows are rejected with reasons.
FIELD_FAILURE_SHARE = 0.8


def review(run_id: str, entity: str, spec: dict, compiled: dict, table_key: str, trial_rows: int) -> dict:
    """Run the trial and return {passed, problems, exclusions, trial, validation, preview}."""
    problems: list[str] = []
    exclusions: list[list[str]] = []
    # Gaps in the spec itself (a required field with no source) are shown to the approver.
    # They do not show whether this file converts as the spec intends, so they are kept apart.
    spec_gaps = [
        f"required field {item['name']} has no source: {item['reason']}"
        for item in spec.get("unmapped", []) if item["kind"] == "target_field"
    ]
    if compiled["policy_problems"]:
        problems += [f"import policy: {p}" for p in compiled["policy_problems"]]
        return {"passed": False, "trial_passed": False, "problems": spec_gaps + problems, "exclusions": exclusions, "trial": None, "validation": None, "preview": []}

    trial = tool_by_name("run_script").invoke({
        "run_id": run_id, "script_key": compiled["script_key"], "expected_sha256": compiled["script_sha256"],
        "table_key": table_key, "limit": trial_rows, "purpose": "trial",
    })
    if trial["status"] != "ok":
        problems.append(f"sandbox trial {trial['status']}: {trial.get('error_name')}: {trial.get('message')}")
        return {"passed": False, "trial_passed": False, "problems": spec_gaps + problems, "exclusions": exclusions, "trial": trial, "validation": None, "preview": []}

    checked = tool_by_name("validate").invoke({"run_id": run_id, "entity": entity, "output_key": trial["output_key"], "purpose": "trial"})
    report = checked["report"]
    if report["rows_in"] and not report["rows_valid"]:
        # Shown to the approver. It is no reason to re-map, because no single field is at fault.
        spec_gaps.append(f"none of the {report['rows_in']} trial rows converts: approving this spec would load nothing")
    sources = {m["target"]: m["sources"] for m in spec["mappings"]}
    for field, count in sorted(report["failures_by_field"].items()):
        share = count / max(report["rows_in"], 1)
        if share >= FIELD_FAILURE_SHARE and sources.get(field):
            problems.append(f"{field}: {count} of {report['rows_in']} trial rows fail ({', '.join(sources[field])})")
            exclusions.append([field, ",".join(sources[field])] if len(sources[field]) > 1 else [field, sources[field][0]])
    return {
        "passed": not problems and not spec_gaps,
        "trial_passed": not problems,
        "problems": spec_gaps + problems,
        "exclusions": exclusions,
        "trial": {k: trial.get(k) for k in ("status", "rows", "duration_s", "peak_memory_mb", "isolation", "stderr")},
        "validation": report,
        "preview": checked["preview"],
    }
