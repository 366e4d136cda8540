"""A self-contained HTML page of a review packet, for a person to decide on in a minute.

The page shows the mapping as a table and as a picture: source columns left, target fields
right, lines coloured by confidence. Below come source rows beside their converted rows,
the validation results, what is unmapped, the problems and the script with its SHA-256.
"""

from __future__ import annotations

import html

ROW_HEIGHT = 26


BAND_COLOURS = {"high": "#2e7d32", "medium": "#f9a825", "low": "#c62828"}
BAND_CLASSES = {"high": "ok", "medium": "warn", "low": "bad"}


def confidence_band(confidence: float) -> str:
    """Return high (0.8 and above), medium (0.5 and above) or low, as the packet colours it."""
    if confidence >= 0.8:
        return "high"
    if confidence >= 0.5:
        return "medium"
    return "low"


def _colour(confidence: float) -> str:
    return BAND_COLOURS[confidence_band(confidence)]


def mapping_svg(packet: dict) -> str:
    """Source columns on the left, target fields on the right, one line per column mapping."""
    sources = list(dict.fromkeys(s for m in packet["mappings"] for s in m["sources"]))
    sources += [u["name"] for u in packet.get("unmapped", []) if u["kind"] == "source_column" and u["name"] not in sources]
    targets = [m["target"] for m in packet["mappings"]]
    height = ROW_HEIGHT * (max(len(sources), len(targets)) + 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="820" height="{height}" font-family="sans-serif" font-size="12">']
    for i, name in enumerate(sources):
        parts.append(f'<text x="250" y="{ROW_HEIGHT * (i + 1)}" text-anchor="end">{html.escape(name)}</text>')
    for i, name in enumerate(targets):
        parts.append(f'<text x="570" y="{ROW_HEIGHT * (i + 1)}">{html.escape(name)}</text>')
    for i, mapping in enumerate(packet["mappings"]):
        for source in mapping["sources"]:
            y1, y2 = ROW_HEIGHT * (sources.index(source) + 1) - 4, ROW_HEIGHT * (i + 1) - 4
            parts.append(
                f'<line x1="258" y1="{y1}" x2="562" y2="{y2}" stroke="{_colour(mapping["confidence"])}" stroke-width="2">'
                f'<title>{html.escape(mapping["transform"])} {mapping["confidence"]:.2f}</title></line>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _table(header: list[str], rows: list[list], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = []
    for index, row in enumerate(rows):
        css = f' class="{classes[index]}"' if classes else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _model_section(packet: dict) -> str:
    """Show who proposed the spec, the model reviewer's critique and any model-written code."""
    e = html.escape
    if packet.get("proposed_by", "offline") == "offline" and not packet.get("model_critique"):
        return ""
    parts = [f"<h2>Model</h2><p>spec proposed by: <b>{e(packet.get('proposed_by', 'offline'))}</b></p>"]
    critique = packet.get("model_critique")
    if critique:
        parts.append(f"<p>reviewer (model), {e(critique['verdict'])}: {e(critique['critique'])}</p>")
    for custom in packet.get("model_written_code", []):
        parts.append(f"<h3 class='warn'>model-written code for {e(custom['field'])}</h3>{_highlighted(custom['code'])}")
    return "".join(parts)


def render(packet: dict, source_rows: list[dict]) -> str:
    e = html.escape
    mappings = _table(
        ["target field", "source column(s)", "transform", "confidence", "rationale"],
        [[m["target"], ", ".join(m["sources"]) or "(constant or generated)", m["transform"], f"{m['confidence']:.2f}", m["rationale"]] for m in packet["mappings"]],
        [BAND_CLASSES[confidence_band(m["confidence"])] for m in packet["mappings"]],
    )
    by_line = {row.get("_line"): row for row in source_rows}
    side_by_side = []
    for converted in packet.get("preview", []):
        source = by_line.get(converted.get("_line"), {})
        side_by_side.append(
            f"<h3>line {e(str(converted.get('_line')))}</h3><div class='pair'>"
            + _table(["source column", "value"], [[k, v] for k, v in source.items() if k != "_line"])
            + _table(["target field", "converted"], [[k, v] for k, v in converted.items() if k != "_line"])
            + "</div>"
        )
    validation = packet.get("validation") or {}
    rejected = (_table(["line", "reason"], [[r["line"], r["reason"]] for r in validation.get("rejected", [])], ["bad"] * len(validation.get("rejected", [])))
                if validation.get("rejected") else "<p>no trial row was rejected</p>")
    unmapped = (_table(["name", "kind", "reason"], [[u["name"], u["kind"], u["reason"]] for u in packet.get("unmapped", [])])
                if packet.get("unmapped") else "<p>none: every source column is mapped and every required field has a source</p>")
    problems = "".join(f"<li>{e(p)}</li>" for p in packet.get("problems", [])) or "<li>none</li>"
    isolation = "".join(f"<li>{e(i)}</li>" for i in (packet.get("trial") or {}).get("isolation", []))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Review packet</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:.5em 1em .5em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;vertical-align:top}.ok{background:#eef7ee}.warn{background:#fff7d6}"
        ".bad{background:#fde0e0}.pair{display:flex;align-items:flex-start}pre{background:#f6f6f6;padding:1em;overflow:auto}"
        "</style></head><body>"
        f"<h1>Review: {e(packet['file'])} as {e(packet['entity'])}</h1>"
        f"<p>{packet['rows']} data rows; file SHA-256 <code>{e(packet['file_sha256'])}</code>; thread {e(str(packet.get('thread_id')))}<br>"
        f"{e(packet.get('entity_rationale') or '')}</p>"
        f"<p>Script SHA-256 <code>{e(packet['script_sha256'])}</code>: approving approves exactly this script.</p>"
        f"<h2>Problems</h2><ul>{problems}</ul>"
        f"{_model_section(packet)}"
        f"<h2>Mapping</h2>{mapping_svg(packet)}{mappings}"
        f"<h2>Unmapped</h2>{unmapped}"
        f"<h2>Trial: {validation.get('rows_valid', '?')} of {validation.get('rows_in', '?')} rows valid</h2>{rejected}"
        f"<h2>Before and after</h2>{''.join(side_by_side)}"
        f"<h2>Sandbox</h2><ul>{isolation}</ul>"
        f"<h2>Script</h2>{_highlighted(packet['script'])}"
        "</body></html>"
    )


def _highlighted(code: str) -> str:
    """Python source as HTML with inline colours, so the page needs no style sheet or script."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return highlight(code, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False))
