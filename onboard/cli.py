"""The `onboard` command line.

Exit codes: 0 done (loaded and reconciled, or the requested output printed), 1 the run
failed (execution or reconciliation), 2 bad input or usage, 3 no such run or run not in the
expected state, 10 waiting for approval.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from onboard.errors import DatabaseUnavailable, OnboardError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NOT_FOUND, EXIT_WAITING = 0, 1, 2, 3, 10
ENTITY_CHOICES = ("auto", "customer", "account", "transaction")

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Onboard a bank client's data file: map, review, approve, load, reconcile.")
formats_app = typer.Typer(add_completion=False, no_args_is_help=True, help="The library of approved formats.")
app.add_typer(formats_app, name="formats")
console = Console()
errors = Console(stderr=True)


def _fail(message: str, code: int) -> None:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _parse_defaults(items: list[str]) -> dict[str, str]:
    defaults = {}
    for item in items:
        if "=" not in item:
            _fail(f"--default {item!r} must look like FIELD=VALUE, for example currency=CZK", EXIT_BAD_INPUT)
        key, value = item.split("=", 1)
        defaults[key.strip()] = value.strip()
    from onboard.schema import load_schema

    known = {name for entity in load_schema().entities.values() for name in entity.fields}
    unknown = sorted(set(defaults) - known)
    if unknown:
        _fail(f"--default names unknown field(s) {', '.join(unknown)}; target fields are: {', '.join(sorted(known))}", EXIT_BAD_INPUT)
    return defaults


def _exit_code(summary: dict) -> int:
    return {"loaded": EXIT_OK, "waiting_for_approval": EXIT_WAITING, "failed": EXIT_FAILED, "not_found": EXIT_NOT_FOUND}.get(summary["status"], EXIT_FAILED)


def _print_summary(summary: dict, as_json: bool) -> None:
    if as_json:
        printable = {k: v for k, v in summary.items() if k not in ("review_packet", "interrupt", "last_review_packet")}
        typer.echo(json.dumps(printable, ensure_ascii=False, default=str))
        return
    status = summary["status"]
    colour = {"loaded": "green", "waiting_for_approval": "yellow", "failed": "red"}.get(status, "white")
    lines = [f"thread: {summary['thread_id']}", f"status: [{colour}]{status}[/]"]
    if summary.get("file"):
        lines.append(f"file: {summary['file']} ({summary.get('entity')})")
    if summary.get("reused_format"):
        lines.append(f"reused approved format {summary['reused_format']}: no new approval needed")
    if "rows_in" in summary:
        lines.append(f"rows: {summary['rows_in']} in, {summary['rows_loaded']} loaded ({summary['rows_new']} new), {summary['rows_rejected']} rejected")
        lines.append(f"reconciled: {'yes' if summary['reconciled'] else 'NO'}")
        for check in summary.get("checks", []):
            mark = "[green]ok[/]" if check["passed"] else "[red]FAILED[/]"
            lines.append(f"  {mark} {check['check']}: {check['detail']}")
    if summary.get("remembered_format"):
        lines.append(f"remembered as format {summary['remembered_format']}")
    if summary.get("error"):
        lines.append(f"[red]{summary['error']}[/]")
    if summary.get("model_explanation"):
        lines.append(f"model's explanation: {summary['model_explanation']['explanation']}")
    if summary.get("model_usage"):
        total = summary["model_usage"]["total"]
        per_agent = ", ".join(f"{agent} {counts['input_tokens']}+{counts['output_tokens']}" for agent, counts in summary["model_usage"]["agents"].items())
        lines.append(
            f"model: spec proposed by {summary['proposed_by']}; {total['requests']} requests, "
            f"{total['input_tokens']} input + {total['output_tokens']} output tokens ({per_agent}), cost {total['cost']}"
        )
    packet = summary.get("review_packet") or {}
    if packet.get("previous_answer_problem"):
        lines.append(f"[yellow]previous answer not accepted: {packet['previous_answer_problem']}[/]")
    if status == "waiting_for_approval":
        thread = summary["thread_id"]
        lines.append(f"next: onboard approve {thread} --by NAME   or   onboard reject {thread} --comment TEXT")
    console.print(Panel("\n".join(lines), title="onboarding run", expand=False), highlight=False)


def show_packet(packet: dict, show_script: bool = False) -> None:
    """Print the review packet: the mapping, what is unmapped, problems, a preview, the script."""
    from onboard.review_html import confidence_band

    console.print(Panel(
        f"file {packet['file']} ({packet['rows']} data rows, SHA-256 {packet['file_sha256'][:16]}…)\n"
        f"entity: {packet['entity']}  {packet.get('entity_rationale') or ''}\n"
        f"script SHA-256: {packet['script_sha256']}",
        title=f"review packet — thread {packet['thread_id']}", expand=False,
    ), highlight=False)
    table = Table(title="mapping", show_lines=False)
    for header in ("target field", "source column(s)", "transform", "confidence", "rationale"):
        table.add_column(header, overflow="fold")
    for m in packet["mappings"]:
        params = ", ".join(f"{k}={v!r}" for k, v in m["params"].items() if k not in ("debit_values", "credit_values"))
        conf = m["confidence"]
        colour = {"high": "green", "medium": "yellow", "low": "red"}[confidence_band(conf)]
        table.add_row(m["target"], ", ".join(m["sources"]) or "—", f"{m['transform']}({params})", f"[{colour}]{conf:.2f}[/]", m["rationale"])
    console.print(table)
    if packet["unmapped"]:
        unmapped = Table(title="unmapped")
        unmapped.add_column("name")
        unmapped.add_column("kind")
        unmapped.add_column("reason", overflow="fold")
        for item in packet["unmapped"]:
            unmapped.add_row(item["name"], item["kind"], item["reason"])
        console.print(unmapped)
    trial = packet.get("trial") or {}
    if trial.get("isolation"):
        console.print("sandbox: " + "; ".join(trial["isolation"]), highlight=False, soft_wrap=True)
    validation = packet.get("validation") or {}
    if validation:
        console.print(f"trial: {validation['rows_in']} rows, {validation['rows_valid']} valid, {validation['rows_rejected']} rejected", highlight=False)
        for item in validation.get("rejected", [])[:10]:
            console.print(f"  [red]line {item['line']}[/]: {item['reason']}", highlight=False)
    for problem in packet.get("problems", []):
        console.print(f"[bold yellow]problem:[/] {problem}", highlight=False)
    if packet.get("preview"):
        # One line per field and one column per sample row, so it fits a narrow terminal.
        rows = packet["preview"][:4]
        preview = Table(title="converted rows (trial preview)")
        preview.add_column("field")
        for row in rows:
            preview.add_column(f"line {row.get('_line')}", overflow="fold")
        for column in [c for c in rows[0] if c != "_line"]:
            preview.add_row(column, *["" if row.get(column) is None else str(row[column]) for row in rows])
        console.print(preview)
    if packet.get("proposed_by", "offline") != "offline":
        console.print(f"spec proposed by: {packet['proposed_by']}", highlight=False)
    for custom in packet.get("model_written_code", []):
        console.print(f"[bold yellow]model-written code[/] for {custom['field']} ({custom['name']}):", highlight=False)
        console.print(Syntax(custom["code"], "python"))
    critique = packet.get("model_critique")
    if critique:
        console.print(f"reviewer (model), {critique['verdict']}: {critique['critique']}", highlight=False, soft_wrap=True)
    for item in packet.get("feedback", []):
        if item.get("not_understood"):
            console.print(f"[yellow]comment lines not applied[/] (unknown field or column): {'; '.join(item['not_understood'])}", highlight=False)
    for candidate in packet.get("library_candidates", []):
        console.print(
            f"closest approved format {candidate['format_id']} v{candidate['version']}: similarity {candidate['similarity']:.3f}"
            + (f", not reused: {'; '.join(candidate['structural_problems'])}" if candidate["structural_problems"] else ""),
            highlight=False,
        )
    if show_script:
        show_script_text(packet)


def show_script_text(packet: dict) -> None:
    console.print(f"script SHA-256 {packet['script_sha256']}", highlight=False)
    console.print(Syntax(packet["script"], "python", line_numbers=True, word_wrap=True))


def _run_errors(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except DatabaseUnavailable as error:
        where = f"`onboard resume {error.thread_id}`" if error.thread_id else "`onboard resume THREAD`"
        _fail(f"{error}. The run kept its checkpoint: continue it with {where}.", EXIT_FAILED)
    except OnboardError as error:
        _fail(str(error), EXIT_BAD_INPUT)
    except LookupError as error:
        _fail(error.args[0] if error.args else str(error), EXIT_NOT_FOUND)


def _ask(summary: dict) -> dict:
    """Ask the person at the terminal to approve, reject or leave the run waiting."""
    from graph import runner

    while summary["status"] == "waiting_for_approval":
        show_packet(summary["review_packet"])
        choice = typer.prompt("approve (a), reject (r), show script (s) or leave waiting (w)?", default="w").strip().lower()
        if choice.startswith("s"):
            show_script_text(summary["review_packet"])
            typer.prompt("press Enter to see the packet again", default="", show_default=False)
            continue
        if choice.startswith("a"):
            name = typer.prompt("approver name", default=os.environ.get("USER", "")).strip()
            if not name:
                errors.print("an approval needs the approver's name")
                continue
            summary = _run_errors(runner.answer, summary["thread_id"], {"action": "approve", "by": name})
        elif choice.startswith("r"):
            comment = typer.prompt("comment (field = column lines are applied)")
            name = typer.prompt("your name", default=os.environ.get("USER", ""))
            summary = _run_errors(runner.answer, summary["thread_id"], {"action": "reject", "by": name, "comment": comment})
        else:
            break
    return summary


@app.command()
def run(
    file: Path = typer.Argument(..., help="the client's data file"),
    entity: str = typer.Option("auto", help="target entity: customer, account, transaction or auto"),
    client: Optional[str] = typer.Option(None, help="client name, recorded with the load and the format"),
    default: list[str] = typer.Option([], "--default", help="FIELD=VALUE for a field the file lacks (repeatable), e.g. currency=CZK"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of the rich view"),
    by: Optional[str] = typer.Option(None, "--by", help="who starts the run (the maker), recorded in the audit; default: your login name"),
) -> None:
    """Onboard FILE: map, review, stop for approval (asks on a terminal), load and reconcile."""
    if entity not in ENTITY_CHOICES:
        _fail(f"--entity {entity!r} is not one of {', '.join(ENTITY_CHOICES)}", EXIT_BAD_INPUT)
    from onboard.reader import check_readable

    _run_errors(check_readable, file, str(file), None if entity == "auto" else entity)
    from graph import runner

    summary = _run_errors(runner.start, str(file.resolve()), entity, client, _parse_defaults(default), by or _login_name())
    if summary["status"] == "failed" and summary.get("error") and "rows_in" not in summary:
        # Receive and analyst failures are about the input; execute and load failures are not.
        input_problem = not summary["error"].startswith(("execute failed", "the load was rolled back"))
        _fail(summary["error"], EXIT_BAD_INPUT if input_problem else EXIT_FAILED)
    if summary["status"] == "waiting_for_approval" and sys.stdin.isatty() and sys.stdout.isatty() and not as_json:
        summary = _ask(summary)
    _print_summary(summary, as_json)
    raise typer.Exit(_exit_code(summary))


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry for this uid
        return ""


@app.command()
def approve(
    thread: str = typer.Argument(..., help="thread id printed by `onboard run`"),
    by: str = typer.Option(..., "--by", help="the approver's name, recorded in the audit table"),
    comment: Optional[str] = typer.Option(None, help="optional comment recorded with the approval"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Approve the run's script: it then runs on all rows and loads the core database."""
    from graph import runner

    if not by.strip():
        _fail("--by must name the approver", EXIT_BAD_INPUT)
    summary = _run_errors(runner.answer, thread, {"action": "approve", "by": by.strip(), "comment": comment})
    _print_summary(summary, as_json)
    raise typer.Exit(_exit_code(summary))


@app.command()
def reject(
    thread: str = typer.Argument(...),
    comment: str = typer.Option(..., help="why; lines like 'booking_date = Valutadatum' or 'reference = -' change the mapping"),
    by: str = typer.Option(..., "--by", help="your name, recorded in the audit table"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Reject the proposal; the comment goes back to the analyst, who proposes again."""
    from graph import runner

    summary = _run_errors(runner.answer, thread, {"action": "reject", "by": by, "comment": comment})
    _print_summary(summary, as_json)
    raise typer.Exit(_exit_code(summary))


@app.command()
def edit(
    thread: str = typer.Argument(...),
    spec: Path = typer.Option(..., help="a changed mapping spec (JSON), e.g. from `onboard status THREAD --json --packet`"),
    by: str = typer.Option(..., "--by"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Answer the approval with an edited spec; it is compiled and reviewed again."""
    from graph import runner
    from onboard.spec import MappingSpec

    try:
        data = MappingSpec.model_validate_json(spec.read_text(encoding="utf-8")).model_dump(mode="json")
    except FileNotFoundError:
        _fail(f"{spec}: file not found", EXIT_BAD_INPUT)
    except ValueError as error:
        _fail(f"{spec}: not a valid mapping spec: {error}", EXIT_BAD_INPUT)
    summary = _run_errors(runner.answer, thread, {"action": "edit", "by": by, "spec": data})
    _print_summary(summary, as_json)
    raise typer.Exit(_exit_code(summary))


def _model_summary(state: dict) -> dict:
    """The run's model usage, per agent and in total, and who proposed the spec; empty offline."""
    from agents.llm import usage_total

    usage = state.get("model_usage") or {}
    if not usage and not state.get("proposed_by"):
        return {}
    summary = {"proposed_by": state.get("proposed_by") or "offline", "model_usage": {"agents": usage, "total": usage_total(usage)}}
    explanation = (state.get("model_notes") or {}).get("integrator")
    if explanation:
        summary["model_explanation"] = explanation
    return summary


@app.command()
def status(
    thread: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
    packet: bool = typer.Option(False, "--packet", help="also print the review packet: the pending one, or the last one of a run no longer waiting"),
) -> None:
    """Show a run's status; with --packet, its review packet."""
    from graph import runner

    summary = _run_errors(runner.status, thread, packet)
    summary.update(_model_summary(runner.values(thread)))
    if packet:
        review_packet = summary.get("review_packet") or summary.get("last_review_packet")
        if as_json:
            # The packet with the run's current status, so a script can tell a pending packet from a past one.
            printable = {**(review_packet or {}), "status": summary["status"], "waiting": "review_packet" in summary}
            if not review_packet:
                printable.update({k: v for k, v in summary.items() if k not in ("interrupt", "last_review_packet")})
                printable["note"] = "this run never stopped for approval"
            typer.echo(json.dumps(printable, ensure_ascii=False, default=str))
            raise typer.Exit(_exit_code(summary))
        if review_packet:
            if "review_packet" not in summary:
                console.print(f"[bold]last review packet[/] of run {thread}, which is now {summary['status']}:", highlight=False)
            show_packet(review_packet, show_script=True)
        else:
            console.print(f"run {thread} never stopped for approval, so it has no review packet", highlight=False)
    _print_summary(summary, as_json)
    raise typer.Exit(_exit_code(summary))


@app.command()
def runs(as_json: bool = typer.Option(False, "--json"), limit: int = typer.Option(50, help="number of runs to list")) -> None:
    """List recent runs in ONBOARD_HOME, newest first."""
    from graph import runner

    summaries = _run_errors(runner.list_runs, limit)
    if as_json:
        typer.echo(json.dumps([{k: v for k, v in s.items() if k not in ("review_packet", "interrupt", "checks")} for s in summaries], ensure_ascii=False, default=str))
        return
    table = Table(title=f"runs ({len(summaries)})")
    for header in ("thread", "status", "file", "entity", "rows in", "loaded", "rejected", "reused format"):
        table.add_column(header, overflow="fold")
    for s in summaries:
        table.add_row(s["thread_id"], s["status"], s.get("file") or "", s.get("entity") or "", str(s.get("rows_in", "")), str(s.get("rows_loaded", "")), str(s.get("rows_rejected", "")), s.get("reused_format") or "")
    console.print(table)


@app.command()
def resume(thread: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """Continue a run that stopped mid-way, for example after its process was killed."""
    from graph import runner

    summary = _run_errors(runner.resume, thread)
    _print_summary(summary, as_json)
    raise typer.Exit(_exit_code(summary))


@app.command()
def review(
    thread: str = typer.Argument(...),
    html_path: Path = typer.Option(..., "--html", help="write the review packet as a self-contained HTML page to this file"),
) -> None:
    """Write a run's review packet as an HTML page: mapping picture, before/after rows, script.

    For a run no longer waiting, the page shows the last packet a person decided on.
    """
    from graph import runner
    from onboard.review_html import render
    from serverless import runtime

    summary = _run_errors(runner.status, thread, True)
    packet = summary.get("review_packet") or summary.get("last_review_packet")
    if not packet:
        _fail(f"run {thread} is {summary['status']} and never stopped for approval, so it has no review packet", EXIT_NOT_FOUND)
    state = runner.values(thread)
    table = runtime.read_frame(state["ingest"]["table_key"])
    lines = {row.get("_line") for row in packet.get("preview", [])}
    source_rows = [row for row in table.to_dict(orient="records") if row.get("_line") in lines]
    html_path.write_text(render(packet, source_rows), encoding="utf-8")
    console.print(f"wrote {html_path}", highlight=False)


@app.command()
def audit(thread: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """Print a run's audit trail: every decision with its actor and time."""
    from onboard import database
    from onboard.settings import load_settings

    settings = load_settings()
    if not settings.database_path.exists():
        _fail(f"no core database in {settings.home}; set ONBOARD_HOME to the folder the run was started with", EXIT_NOT_FOUND)
    with database.connect(settings.database_path) as connection:
        rows = connection.execute("SELECT at, actor, action, detail FROM audit WHERE thread_id = ? OR run_id = ? ORDER BY id", (thread, thread)).fetchall()
    if not rows:
        _fail(f"no audit rows for thread id {thread} in {settings.home}", EXIT_NOT_FOUND)
    if as_json:
        typer.echo(json.dumps([{"at": r[0], "actor": r[1], "action": r[2], "detail": json.loads(r[3] or "{}")} for r in rows], ensure_ascii=False))
        return
    table = Table(title=f"audit trail of {thread} ({len(rows)} rows)")
    for header in ("time (UTC)", "actor", "action", "detail"):
        table.add_column(header, overflow="fold")
    for at, actor, action, detail in rows:
        table.add_row(at, actor, action, detail if len(detail or "") < 300 else detail[:297] + "...")
    console.print(table)


@app.command()
def rejected(
    thread: str = typer.Argument(...),
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="write the rejected rows with their reasons to this CSV file"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the rows a run rejected, with source line, stage and reason."""
    from graph import runner
    from onboard import database
    from onboard.exports import write_csv
    from onboard.settings import load_settings

    summary = _run_errors(runner.status, thread)
    if summary["status"] == "not_found":
        _fail(f"no run with thread id {thread!r}", EXIT_NOT_FOUND)
    with database.connect(load_settings().ensure().database_path) as connection:
        rows = connection.execute(
            "SELECT r.source_line, r.stage, r.reason FROM rejected_rows r JOIN loads l ON l.load_id = r.load_id "
            "WHERE l.thread_id = ? ORDER BY l.loaded_at, r.source_line",
            (thread,),
        ).fetchall()
    if csv_path:
        write_csv(csv_path, ["source_line", "stage", "reason"], [list(r) for r in rows])
    if as_json:
        typer.echo(json.dumps([{"line": r[0], "stage": r[1], "reason": r[2]} for r in rows], ensure_ascii=False))
        return
    table = Table(title=f"rejected rows of {thread} ({len(rows)})")
    for header in ("line", "stage", "reason"):
        table.add_column(header, overflow="fold")
    for line, stage, reason in rows:
        table.add_row(str(line), stage, reason)
    console.print(table)


@app.command("map")
def map_file(
    file: Path = typer.Argument(...),
    entity: str = typer.Option("auto", help="customer, account, transaction or auto"),
    default: list[str] = typer.Option([], "--default", help="FIELD=VALUE for a field the file lacks"),
    as_json: bool = typer.Option(False, "--json", help="print the spec as JSON"),
) -> None:
    """Propose a mapping spec for FILE without running anything."""
    if entity not in ENTITY_CHOICES:
        _fail(f"--entity {entity!r} is not one of {', '.join(ENTITY_CHOICES)}", EXIT_BAD_INPUT)
    from agents.analyst import propose
    from onboard.reader import read_table
    from onboard.spec import add_preamble_columns
    from serverless.profiling import profile_table

    table = _run_errors(read_table, file, str(file), None if entity == "auto" else entity)
    add_preamble_columns(table.frame, table.source)
    profiles = profile_table(table.frame)
    values = {c: [str(x) for x in table.frame[c]] for c in table.frame.columns}
    from agents.analyst import NoEntityFits

    try:
        spec, _ = propose(profiles, values, table.source, entity=entity, defaults=_parse_defaults(default))
    except NoEntityFits as error:
        _fail(f"{file}: {error}. Pass --entity customer, account or transaction to choose one", EXIT_BAD_INPUT)
    if as_json:
        typer.echo(spec.model_dump_json(indent=2))
        return
    show_packet({
        "thread_id": "-", "file": str(file), "rows": table.data_rows, "file_sha256": "-" * 16, "entity": spec.entity,
        "entity_rationale": spec.entity_rationale, "script_sha256": "(not compiled)",
        "mappings": [m.model_dump() for m in spec.mappings], "unmapped": [u.model_dump() for u in spec.unmapped],
    })


@app.command("eval")
def eval_cases(
    cases: list[Path] = typer.Option([], "--cases", help="folder of cases (repeatable); default: the project's evals/cases"),
    as_json: bool = typer.Option(False, "--json", help="print the whole report as JSON"),
    report: Optional[Path] = typer.Option(None, "--report", help="write a self-contained HTML report to this file"),
    output: Optional[Path] = typer.Option(None, "--output", help="also write the JSON report to this file"),
    model: Optional[str] = typer.Option(None, "--model", help="run the agents with this model (sets ONBOARD_MODEL for the run); default: offline"),
) -> None:
    """Score mapping accuracy on eval cases, each run through the real graph."""
    import evals
    from evals.cases import CaseError
    from evals.harness import run_suite, write_html, write_json

    roots = cases or [Path(evals.__file__).parent / "cases"]
    for root in roots:
        if not root.exists():
            _fail(f"{root}: cases folder not found", EXIT_BAD_INPUT)

    def progress(result: dict) -> None:
        if not as_json:
            cells = result.get("cell_accuracy")
            cells_text = f"{cells:.3f}" if isinstance(cells, float) else "n/a"
            error = f"  {result['error'][:120]}" if result.get("error") else ""
            tokens = f"  {result['proposed_by']}, {result['tokens']} tokens" if model else ""
            console.print(f"{result['name']:<40} F1 {result['f1']:.2f}  cells {cells_text}  {result['status']}{tokens}{error}", highlight=False)

    try:
        result = run_suite(roots, progress, model=model)
    except CaseError as error:
        _fail(str(error), EXIT_BAD_INPUT)
    if output:
        write_json(result, output)
    if report:
        write_html(result, report)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    table = Table(title="overall")
    table.add_column("metric")
    table.add_column("value")
    for key, value in result["overall"].items():
        table.add_row(key, str(value))
    console.print(table)
    for who, figures in (result.get("overall_by_proposer") or {}).items():
        console.print(
            f"proposed by {who}: {figures['cases']} cases, F1 {figures['f1']}, cells {figures['cell_accuracy']}, "
            f"tokens {figures['tokens']}, cost {figures['cost']}",
            highlight=False,
        )
    crashed = [c["name"] for c in result["cases"] if c.get("status") == "crashed" or (c.get("error") or "").startswith("execute failed")]
    if crashed:
        _fail(f"{len(crashed)} case(s) could not run: {', '.join(crashed[:10])}; see their errors above", EXIT_FAILED)


@app.command()
def worker(
    once: bool = typer.Option(False, "--once", help="receive one batch, start its runs and exit"),
    max_messages: int = typer.Option(10, "--max-messages", min=1, max=10, help="messages to receive per batch (SQS allows at most 10)"),
    wait: int = typer.Option(20, "--wait", min=0, max=20, help="seconds to wait for a message before an empty batch (SQS allows at most 20)"),
) -> None:
    """Start a run for each upload in the queue (ONBOARD_BACKEND chooses the local table or SQS).

    Prints one JSON line per message. Runs that need approval wait as usual for
    `onboard approve` or `onboard reject`. Stop the worker with Ctrl-C.
    """
    import logging

    from graph import runner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    crashed = 0
    while True:
        outcomes = _run_errors(runner.start_from_queue, max_messages, wait)
        for outcome in outcomes:
            printable = {k: v for k, v in outcome.items() if k not in ("review_packet", "interrupt")}
            typer.echo(json.dumps(printable, ensure_ascii=False, default=str))
        crashed += sum(1 for o in outcomes if o["status"] == "error")
        if once:
            break
    raise typer.Exit(EXIT_FAILED if crashed else EXIT_OK)


@formats_app.command("add")
def formats_add(
    file: Path = typer.Argument(..., help="a client file in the format"),
    spec: Optional[Path] = typer.Option(None, "--spec", help="a hand-written mapping spec (JSON)"),
    script: Optional[Path] = typer.Option(None, "--script", help="a hand-written transformation script (Python with transform())"),
    by: str = typer.Option(..., "--by", help="who wrote it, recorded as the maker"),
    entity: str = typer.Option("auto", help="customer, account, transaction or auto"),
    client: Optional[str] = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add a hand-written spec or script for a format; it is reviewed, tried and approved like any other."""
    from graph import runner
    from onboard.spec import MappingSpec

    if (spec is None) == (script is None):
        _fail("give exactly one of --spec SPEC or --script SCRIPT", EXIT_BAD_INPUT)
    hand_spec = hand_script = None
    try:
        if spec is not None:
            hand_spec = MappingSpec.model_validate_json(spec.read_text(encoding="utf-8")).model_dump(mode="json")
        else:
            hand_script = script.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        _fail(f"{error.filename}: file not found", EXIT_BAD_INPUT)
    except ValueError as error:
        _fail(f"{spec}: not a valid mapping spec: {error}", EXIT_BAD_INPUT)
    _run_errors(read_table_for_cli, file, entity)
    summary = _run_errors(runner.start, str(file.resolve()), entity, client, {}, by.strip(), hand_spec, hand_script)
    if summary["status"] == "failed" and "rows_in" not in summary:
        _fail(summary.get("error") or "the run failed", EXIT_BAD_INPUT)
    _print_summary(summary, as_json)
    raise typer.Exit(_exit_code(summary))


def read_table_for_cli(file: Path, entity: str):
    from onboard.reader import check_readable

    check_readable(file, str(file), None if entity == "auto" else entity)


@formats_app.command("list")
def formats_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List approved formats."""
    from onboard.settings import load_settings
    from serverless.format_library import FormatLibrary

    library = FormatLibrary(load_settings().ensure().format_library)
    entries = library.entries()
    if as_json:
        typer.echo(json.dumps([{
            "format_id": e.format_id, "version": e.version, "entity": e.entity, "client": e.client,
            "columns": e.fingerprint.columns, "script_sha256": e.script_sha256, "approved_by": e.approved_by,
            "approved_at": e.approved_at, "hash_ok": library.verify(e), "origin": e.origin,
        } for e in entries], ensure_ascii=False))
        return
    table = Table(title=f"approved formats ({len(entries)})")
    for header in ("format", "version", "entity", "client", "columns", "approved by", "approved at", "script SHA-256"):
        table.add_column(header, overflow="fold")
    for e in entries:
        ok = "" if library.verify(e) else " [red](hash mismatch)[/]"
        origin = "" if e.origin == "generated" else f" ({e.origin})"
        table.add_row(e.format_id, str(e.version), e.entity + origin, e.client or "", str(len(e.fingerprint.columns)), e.approved_by, e.approved_at, e.script_sha256[:16] + "…" + ok)
    console.print(table)


@contextmanager
def _progress_bar(step: str, total_rows: int):
    """Draw a progress bar on stderr for a long step: rows done, rows per second, time left."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
               TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
    with Progress(*columns, console=errors, transient=False) as bar:
        task = bar.add_task(step, total=max(total_rows, 1), rate="")

        def advance(rows: int) -> None:
            bar.advance(task, rows)
            speed = bar.tasks[task].speed
            bar.update(task, rate=f"{speed:,.0f} rows/s" if speed else "")

        yield advance


def main() -> None:
    if errors.is_terminal:
        from graph import progress

        progress.install(_progress_bar)
    try:
        app()
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
