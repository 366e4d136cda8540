"""The approval interrupt in the LangGraph human-interrupt convention, and its answers.

The interrupt value is a list with one request: `action_request` (action and args, the
args being the review packet), `config` (which answers are allowed) and a `description`
for the person. Generic inbox UIs answer with a HumanResponse: `{"type": "accept" |
"edit" | "response" | "ignore", "args": ...}`. The CLI sends the product's own form,
`{"action": "approve" | "reject" | "edit", "by": NAME, "comment": TEXT, "spec": SPEC}`.
Both are normalised here to the product's form.
"""

from __future__ import annotations

from typing import Any

ACTION = "approve_transformation"


class InvalidAnswer(ValueError):
    """An answer the approval step cannot act on; the run keeps waiting and says why."""


def human_interrupt(packet: dict, problem: str | None = None) -> list[dict]:
    mapping_lines = "\n".join(
        f"| {m['target']} | {', '.join(m['sources']) or '(constant or generated)'} | {m['transform']} | {m['confidence']:.2f} |"
        for m in packet["mappings"]
    )
    validation = packet.get("validation") or {}
    problems = "\n".join(f"- {p}" for p in packet.get("problems", [])) or "- none"
    description = (
        f"{'**Previous answer not accepted:** ' + problem + chr(10) + chr(10) if problem else ''}"
        f"Approve the {packet['entity']} conversion of `{packet['file']}` ({packet['rows']} rows); "
        f"script SHA-256 `{packet['script_sha256']}`.\n\n"
        f"| target | source | transform | confidence |\n| --- | --- | --- | --- |\n{mapping_lines}\n\n"
        f"Trial: {validation.get('rows_valid', '?')} of {validation.get('rows_in', '?')} rows valid.\n\nProblems:\n{problems}\n\n"
        "Accept (with args {\"by\": NAME}) to approve, respond with a comment to reject "
        "(lines like `booking_date = Valutadatum` change the mapping), edit the spec, or ignore to cancel the run."
    )
    return [{
        "action_request": {"action": ACTION, "args": {**packet, "previous_answer_problem": problem}},
        "config": {"allow_accept": True, "allow_edit": True, "allow_respond": True, "allow_ignore": True},
        "description": description,
    }]


def normalise_answer(raw: Any) -> dict:
    """Turn a HumanResponse or the product's own answer into {action, by, comment, spec}."""
    if isinstance(raw, list):
        if len(raw) != 1:
            raise InvalidAnswer(f"expected one answer, got {len(raw)}")
        raw = raw[0]
    if not isinstance(raw, dict):
        raise InvalidAnswer(f"an answer must be an object, got {type(raw).__name__}")
    if "action" in raw:
        action = raw["action"]
        if action not in ("approve", "reject", "edit"):
            raise InvalidAnswer(f"action must be approve, reject or edit, got {action!r}")
        return {"action": action, "by": (raw.get("by") or "").strip(), "comment": raw.get("comment"), "spec": raw.get("spec")}
    kind = raw.get("type")
    args = raw.get("args")
    if kind == "accept":
        by = (args or {}).get("by", "") if isinstance(args, dict) else ""
        return {"action": "approve", "by": str(by).strip(), "comment": (args or {}).get("comment") if isinstance(args, dict) else None, "spec": None}
    if kind == "response":
        text = args if isinstance(args, str) else (args or {}).get("comment", "") if isinstance(args, dict) else ""
        by = (args or {}).get("by", "") if isinstance(args, dict) else raw.get("by", "")
        return {"action": "reject", "by": str(by or "inbox user").strip(), "comment": text, "spec": None}
    if kind == "edit":
        request = args if isinstance(args, dict) else {}
        edited = request.get("args", request)
        spec = edited.get("spec") if isinstance(edited, dict) else None
        if not isinstance(spec, dict):
            raise InvalidAnswer("an edit must carry the changed spec in args.args.spec")
        return {"action": "edit", "by": str(edited.get("by") or raw.get("by") or "").strip(), "comment": None, "spec": spec}
    if kind == "ignore":
        return {"action": "cancel", "by": str(raw.get("by") or "inbox user"), "comment": None, "spec": None}
    raise InvalidAnswer(f"unknown answer type {kind!r}; expected accept, edit, response or ignore")
