"""Graph nodes. Each node calls one agent and returns a partial state update."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

from langgraph.config import get_config
from langgraph.types import interrupt

from agents import analyst, coder, integrator, model_agents, reviewer
from graph import approval as approval_answers
from graph import progress
from onboard import database
from onboard.errors import OnboardError
from onboard.spec import MappingSpec
from serverless import runtime
from serverless.format_library import FormatLibrary, fingerprint
from serverless.profiling import ColumnProfile
from tools import tool_by_name

SYSTEM_ACTOR = "onboarding-agents"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _thread_id() -> str | None:
    try:
        return get_config()["configurable"].get("thread_id")
    except (RuntimeError, KeyError):
        return None


def _audit(state: dict, action: str, actor: str = SYSTEM_ACTOR, **detail: Any) -> None:
    database.audit(runtime.settings().database_path, action, actor, thread_id=_thread_id(), run_id=state.get("run_id"), detail=detail)


def _trace(step: str, **detail: Any) -> list[dict]:
    return [{"at": _now(), "step": step, **detail}]


def _file_label(state: dict) -> str:
    ingest = state.get("ingest") or {}
    return ingest.get("display_name") or ingest.get("file_name") or state.get("object_key") or state.get("file_path") or "client file"


def _notify_failed(state: dict, error: str) -> None:
    """Tell operations and the client's contact that the run stopped with `error`."""
    label = _file_label(state)
    integrator.notify(_thread_id(), f"onboarding failed: {label}", f"{label}: {error}", "failed", state.get("client"), state.get("client_contact"))


def _notify_waiting(state: dict, update: dict) -> None:
    """Tell operations that the run now waits for a person's approval."""
    merged = {**state, **update}
    thread = _thread_id() or merged["run_id"]
    problems = merged["review"].get("problems") or []
    body = (
        f"{_file_label(merged)}: {merged['ingest']['data_rows']} rows mapped to {merged['spec']['entity']}, "
        f"{len(problems)} review problem(s). Review with `onboard review {thread}`, then approve or reject it."
    )
    integrator.notify(thread, f"waiting for approval: {_file_label(merged)}", body, "waiting_for_approval")


def receive(state: dict) -> dict:
    run_id = state.get("run_id") or _thread_id() or f"run-{uuid.uuid4().hex[:12]}"
    requested = state.get("entity") if state.get("entity") not in (None, "", "auto") else None
    event = {"run_id": run_id, "path": state.get("file_path"), "object_key": state.get("object_key"), "entity": requested}
    try:
        ingest = tool_by_name("ingest").invoke(event)
    except OnboardError as error:
        _notify_failed(state, str(error))
        return {"run_id": run_id, "status": "failed", "error": str(error), "trace": _trace("receive", error=str(error))}
    _audit({"run_id": run_id}, "received", state.get("started_by") or SYSTEM_ACTOR, file=ingest["file_name"], sha256=ingest["sha256"], rows=ingest["data_rows"])
    return {
        "run_id": run_id, "status": "received", "ingest": ingest, "round": 0, "exclusions": [], "overrides": {},
        "feedback": [], "reuse": None, "reused_format": None, "approval": None, "error": None,
        "trace": _trace("receive", tool="ingest", sha256=ingest["sha256"], rows=ingest["data_rows"], kind=ingest["source"]["kind"]),
    }


def analyse(state: dict) -> dict:
    ingest = state["ingest"]
    profiled = tool_by_name("profile").invoke({"run_id": state["run_id"], "table_key": ingest["table_key"]})
    profiles = profiled["profiles"]
    frame, _ = runtime.split_table(runtime.read_frame(ingest["table_key"]))
    frame = frame.head(profiled["rows_profiled"])
    frame_values = {c: ["" if x is None else str(x) for x in frame[c]] for c in frame.columns}
    source = runtime.source_format({"source": ingest["source"]})
    trace = _trace("analyst", tool="profile", columns=len(profiles))

    update: dict[str, Any] = {"profiles": profiles, "back_to_analyst": False}
    if state.get("hand_spec") and state["round"] == 0 and not state.get("feedback"):
        # An operator's hand-written spec replaces the proposal; it is reviewed and approved as usual.
        spec = MappingSpec.model_validate({**state["hand_spec"], "source": ingest["source"]})
        _audit(state, "proposed", state.get("started_by") or SYSTEM_ACTOR, entity=spec.entity, spec_sha256=spec.sha256(), origin="hand-written spec")
        return {**update, "spec": spec.model_dump(mode="json"), "reuse": None, "trace": trace + _trace("analyst", hand_spec=True)}
    requested = state.get("entity") or "auto"
    if requested == "auto" and ingest.get("table_entity"):
        requested = ingest["table_entity"]
    if state["round"] == 0 and not state.get("feedback"):
        found = tool_by_name("search_formats").invoke({"source": ingest["source"], "profiles": profiles, "k": 3})
        trace += _trace("analyst", tool="search_formats", candidates=len(found["candidates"]))
        threshold = runtime.settings().reuse_min_similarity
        summary_keys = ("format_id", "version", "similarity", "structural_problems", "hash_ok")
        update["library"] = {"candidates": [{k: c[k] for k in summary_keys} for c in found["candidates"]]}
        for candidate in found["candidates"]:
            fits = candidate["similarity"] >= threshold and not candidate["structural_problems"] and requested in ("auto", candidate["entity"])
            if fits and candidate["hash_ok"]:
                update["reuse"] = candidate
                spec = MappingSpec.model_validate(candidate["spec"])
                update["spec"] = spec.model_dump(mode="json")
                _audit(state, "reuse_candidate", format_id=candidate["format_id"], version=candidate["version"], similarity=candidate["similarity"])
                return {**update, "trace": trace + _trace("analyst", reuse=candidate["format_id"])}
            if fits and not candidate["hash_ok"]:
                _audit(state, "format_refused", format_id=candidate["format_id"], reason="stored script no longer matches its approved SHA-256")

    exclude = {(a, b) for a, b in state.get("exclusions", [])}
    try:
        spec, matched = analyst.propose(
            [ColumnProfile.model_validate(p) for p in profiles], frame_values, source,
            entity=requested, defaults=state.get("defaults") or {}, exclude=exclude, overrides=state.get("overrides") or {},
        )
    except analyst.NoEntityFits as error:
        message = f"{ingest.get('display_name') or ingest['file_name']}: {error}. Pass --entity customer, account or transaction to choose one, or check that the file holds one of them"
        _audit(state, "failed", reason=message)
        _notify_failed(state, message)
        return {**update, "status": "failed", "error": message, "trace": trace + _trace("analyst", error=str(error))}
    update["candidates"] = analyst.ranked_candidates(matched, spec)
    # model-backed analyst: replaces the offline spec only when the model's spec passes its checks
    spec, model_update = model_agents.analyst_step({**state, "profiles": profiles}, spec, update["candidates"], source)
    update["spec"] = spec.model_dump(mode="json")
    update["reuse"] = None
    _audit(state, "proposed", entity=spec.entity, spec_sha256=spec.sha256(), round=state["round"], **{k: v for k, v in model_update.items() if k == "proposed_by"})
    return model_agents.merge_trace({**update, "trace": trace + _trace("analyst", proposed=spec.entity, mappings=len(spec.mappings))}, model_update)


def _stage_script(state: dict, script: str, digest: str, spec_sha256: str) -> dict:
    """Store a script that was not compiled here in the run's folder, as compile_spec would.

    `digest` is the SHA-256 the script must have when it runs; execute checks it again.
    """
    from serverless.policy import check_script

    key = f"runs/{state['run_id']}/scripts/{digest[:16]}.py"
    runtime.store().put_bytes(key, script.encode("utf-8"))
    return {"script_key": key, "script": script, "script_sha256": digest, "spec_sha256": spec_sha256, "policy_problems": check_script(script)}


def code(state: dict) -> dict:
    if state.get("reuse"):
        library = FormatLibrary(runtime.settings().format_library)
        entry = next(e for e in library.entries() if e.format_id == state["reuse"]["format_id"] and e.version == state["reuse"]["version"])
        compiled = _stage_script(state, library.script_text(entry), entry.script_sha256, entry.spec.sha256())
        return {"compiled": compiled, "trace": _trace("coder", reused=entry.format_id, script_sha256=entry.script_sha256)}
    if state.get("hand_script") and (state.get("approval") or {}).get("action") != "edit":
        from serverless.compiler import script_sha256

        digest = script_sha256(state["hand_script"])
        compiled = _stage_script(state, state["hand_script"], digest, MappingSpec.model_validate(state["spec"]).sha256())
        return {"compiled": compiled, "trace": _trace("coder", hand_script=True, script_sha256=digest)}
    compiled = coder.write_script(state["run_id"], state["spec"])
    # model-backed coder: may add custom functions; a changed spec comes back in model_update
    compiled, model_update = model_agents.coder_step(state, compiled)
    return model_agents.merge_trace({"compiled": compiled, "trace": _trace("coder", tool="compile_spec", script_sha256=compiled["script_sha256"])}, model_update)


def review(state: dict) -> dict:
    settings = runtime.settings()
    result = reviewer.review(state["run_id"], state["spec"]["entity"], state["spec"], state["compiled"], state["ingest"]["table_key"], settings.trial_rows)
    _audit(state, "reviewed", passed=result["passed"], problems=result["problems"], script_sha256=state["compiled"]["script_sha256"])
    update: dict[str, Any] = {"review": result, "trace": _trace("reviewer", tools=["run_script", "validate"], passed=result["passed"], problems=len(result["problems"]))}
    if state.get("reuse") and not result["trial_passed"]:
        # The known format does not fit this file after all: start the full loop once.
        update["reuse"] = None
        update["back_to_analyst"] = True
        update["feedback"] = (state.get("feedback") or []) + [{"from": "reviewer", "comment": "stored format failed its trial: " + "; ".join(result["problems"])}]
    elif not result["passed"] and result["exclusions"]:
        update["exclusions"] = (state.get("exclusions") or []) + result["exclusions"]
        update["round"] = state["round"] + 1
    # model-backed reviewer: adds a critique and may send the proposal back to the analyst
    update = model_agents.merge_trace(update, model_agents.reviewer_step({**state, **update}, result))
    # Announced here, not in the approval node: LangGraph runs that node again on every resume.
    if after_review({**state, **update}) == "approval":
        _notify_waiting(state, update)
    return update


def after_review(state: dict) -> str:
    if state.get("reuse") and state["review"]["trial_passed"]:
        # The approved spec's own gaps were approved with it; this file converts as it did.
        return "execute"
    if state.get("back_to_analyst"):
        return "analyst"
    review_result = state["review"]
    if not review_result["passed"] and review_result["exclusions"] and state["round"] <= runtime.settings().max_review_rounds:
        return "analyst"
    return "approval"


def review_packet(state: dict) -> dict:
    spec = state["spec"]
    result = state["review"]
    return {
        "thread_id": _thread_id(),
        "run_id": state["run_id"],
        "file": state["ingest"]["file_name"],
        "file_sha256": state["ingest"]["sha256"],
        "rows": state["ingest"]["data_rows"],
        "entity": spec["entity"],
        "entity_rationale": spec.get("entity_rationale", ""),
        "mappings": [
            {"target": m["target"], "sources": m["sources"], "transform": m["transform"], "params": m["params"], "confidence": m["confidence"], "rationale": m["rationale"]}
            for m in spec["mappings"]
        ],
        "unmapped": spec["unmapped"],
        "script": state["compiled"]["script"],
        "script_sha256": state["compiled"]["script_sha256"],
        "spec_sha256": state["compiled"]["spec_sha256"],
        "preview": result.get("preview", []),
        "validation": result.get("validation"),
        "problems": result.get("problems", []),
        "trial": result.get("trial"),
        "review_rounds": state.get("round", 0),
        "library_candidates": (state.get("library") or {}).get("candidates", []),
        "origin": state.get("origin") or "generated",
        "feedback": state.get("feedback") or [],
        "allowed_actions": ["approve", "reject", "edit"],
        "spec": spec,
        **model_agents.packet_fields(state),
    }


def _check_approver(state: dict, answer: dict, approvals: list[dict]) -> str | None:
    """Return why this approver may not approve, or None. Enforces the maker-checker settings."""
    settings = runtime.settings()
    by = answer["by"]
    if not by:
        return "an approval must name the approver"
    if settings.approver_must_differ and not state.get("started_by"):
        return "this run does not record who started it, so the maker-checker rule cannot be checked; start the run again with --by NAME"
    if settings.approver_must_differ and by == (state.get("started_by") or ""):
        return f"{by} started this run and may not approve it (approver must differ from the maker)"
    if any(a["by"] == by for a in approvals):
        return f"{by} has already approved; a second approval must come from another person"
    return None


def approval(state: dict) -> dict:
    packet = review_packet(state)
    settings = runtime.settings()
    needed = settings.approvals_for_new_format
    approvals: list[dict] = []
    problem = None
    while True:
        try:
            answer = approval_answers.normalise_answer(interrupt(approval_answers.human_interrupt({**packet, "approvals_so_far": approvals}, problem)))
        except approval_answers.InvalidAnswer as error:
            problem = str(error)
            continue
        actor = answer["by"] or "unknown"
        if answer["action"] == "approve":
            problem = _check_approver(state, answer, approvals)
            if problem:
                _audit(state, "approval_refused", actor, reason=problem)
                continue
            approvals.append({"by": actor, "at": _now(), "comment": answer.get("comment")})
            _audit(state, "approved", actor, script_sha256=packet["script_sha256"], comment=answer.get("comment"), approval=len(approvals), of=needed)
            if len(approvals) < needed:
                problem = f"approval {len(approvals)} of {needed} recorded ({actor}); waiting for the next approver"
                continue
            record = {"action": "approve", "by": ", ".join(a["by"] for a in approvals), "approvers": approvals, "at": _now(), "comment": answer.get("comment"),
                      "script_sha256": packet["script_sha256"], "spec_sha256": packet["spec_sha256"], "spec": packet["spec"]}
            return {"approval": record, "status": "approved", "trace": _trace("approval", action="approve", by=record["by"])}
        break

    record = {"action": answer["action"], "by": actor, "at": _now(), "comment": answer.get("comment"), "script_sha256": packet["script_sha256"], "spec_sha256": packet["spec_sha256"]}
    if answer["action"] == "cancel":
        _audit(state, "cancelled", actor)
        return {"approval": record, "status": "cancelled", "trace": _trace("approval", action="cancel", by=actor)}
    if answer["action"] == "reject":
        columns = state["ingest"]["source"]["columns"]
        overrides, ignored = analyst.parse_hints(answer.get("comment") or "", columns)
        _audit(state, "rejected", actor, comment=answer.get("comment"), understood=overrides, not_understood=ignored)
        merged = {**(state.get("overrides") or {}), **overrides}
        feedback = (state.get("feedback") or []) + [{"from": actor, "comment": answer.get("comment"), "overrides": overrides, "not_understood": ignored}]
        return {"approval": record, "overrides": merged, "feedback": feedback, "round": 0, "exclusions": [], "status": "rejected", "trace": _trace("approval", action="reject", by=actor)}
    spec = MappingSpec.model_validate(answer["spec"])
    _audit(state, "edited", actor, spec_sha256=spec.sha256())
    return {"approval": record, "spec": spec.model_dump(mode="json"), "status": "edited", "trace": _trace("approval", action="edit", by=actor)}


def after_approval(state: dict) -> str:
    action = (state.get("approval") or {}).get("action")
    return {"approve": "execute", "reject": "analyst", "edit": "coder", "cancel": "end"}[action]


def execute(state: dict) -> dict:
    compiled = state["compiled"]
    approved_sha = state["reuse"]["script_sha256"] if state.get("reuse") else state["approval"]["script_sha256"]
    ingest = state["ingest"]
    started = time.monotonic()
    with progress.track("execute", ingest["rows_read"]) as advance:
        result = integrator.execute(state["run_id"], state["spec"]["entity"], compiled["script_key"], approved_sha,
                                    ingest["chunk_keys"], runtime.settings().max_workers, advance)
    if not result["ok"]:
        _audit(state, "execute_failed", error=result["error"])
        _notify_failed(state, f"execute failed: {result['error']}")
        return {"execution": result, "status": "failed", "error": f"execute failed: {result['error']}", "trace": _trace("execute", error=result["error"])}
    _audit(state, "executed", script_sha256=approved_sha, rows=result["run"]["rows"], rejected=result["validation"]["rows_rejected"])
    update = {"execution": result, "status": "executed", "trace": _trace("execute", tools=["run_script", "validate"], rows=result["run"]["rows"], chunks=result["run"]["chunks"], seconds=round(time.monotonic() - started, 3))}
    if state.get("reuse"):
        update["reused_format"] = f"{state['reuse']['format_id']} v{state['reuse']['version']}"
        _audit(state, "reused", format_id=state["reuse"]["format_id"], version=state["reuse"]["version"])
    return update


def after_execute(state: dict) -> str:
    return "integrator" if state.get("status") == "executed" else "end"


def integrate(state: dict) -> dict:
    approved_sha = state["execution"]["run"]["script_sha256"]
    started = time.monotonic()
    with progress.track("load", state["execution"]["validation"]["rows_valid"]) as advance:
        result = integrator.load_and_reconcile(state["run_id"], _thread_id() or state["run_id"], state.get("client"), state["spec"]["entity"],
                                               state["execution"], state["ingest"], approved_sha, state.get("client_contact"), advance)
    if result["error"]:
        _audit(state, "load_rolled_back", reason=result["error"])
        return {"status": "failed", "error": result["error"], "trace": _trace("integrator", tools=["load", "notify"], error=result["error"])}
    recon = result["reconciliation"]
    _audit(state, "loaded", load_id=result["load"]["load_id"], inserted=result["load"]["rows_inserted"], existing=result["load"]["rows_existing"])
    _audit(state, "reconciled", passed=recon["passed"], checks=recon["checks"])
    status, error = "loaded", None
    if not recon["passed"]:
        status, error = "failed", "reconciliation failed: " + "; ".join(c["detail"] for c in recon["checks"] if not c["passed"])
    elif recon["rows_loaded"] == 0 and recon["rows_in"] > 0:
        reasons = (state["execution"].get("validation") or {}).get("rejected", [])[:3]
        status = "failed"
        error = "no row was loaded: every row was rejected (" + "; ".join(r["reason"] for r in reasons) + ")"
    update = {"load": result["load"], "reconciliation": recon, "status": status, "error": error, "trace": _trace("integrator", tools=["load", "reconcile", "notify"], passed=recon["passed"], seconds=round(time.monotonic() - started, 3))}
    # model-backed integrator: explains a failed reconciliation in words
    return model_agents.merge_trace(update, model_agents.integrator_step(state, recon, error))


def remember(state: dict) -> dict:
    if state.get("reuse") or state.get("status") != "loaded":
        return {}
    ingest = state["ingest"]
    source = runtime.source_format({"source": ingest["source"]})
    profiles = [ColumnProfile.model_validate(p) for p in state["profiles"]]
    library = FormatLibrary(runtime.settings().format_library)
    origin = state.get("origin") or "generated"
    entry = library.add(fingerprint(source, profiles), MappingSpec.model_validate(state["spec"]), state["compiled"]["script"], state["approval"]["by"], state.get("client"), origin=origin)
    _audit(state, "remembered", format_id=entry.format_id, version=entry.version, script_sha256=entry.script_sha256)
    return {"format_entry": {"format_id": entry.format_id, "version": entry.version}, "trace": _trace("remember", format_id=entry.format_id)}


def after_analyst(state: dict) -> str:
    return "end" if state.get("status") == "failed" else "coder"


def after_receive(state: dict) -> str:
    return "end" if state.get("status") == "failed" else "analyst"
