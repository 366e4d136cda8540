"""Import policy for generated scripts, checked on the syntax tree before anything runs.

This is the second wall: the sandbox process isolation is the first and must hold alone.
"""

from __future__ import annotations

import ast

ALLOWED_MODULES = {"pandas", "numpy", "pyarrow", "decimal", "datetime", "re", "math", "onboard.transforms"}
ALLOWED_FROM = {("onboard", "transforms")}
FORBIDDEN_NAMES = {
    "open", "eval", "exec", "__import__", "compile", "globals", "locals", "vars", "getattr", "setattr",
    "delattr", "input", "breakpoint", "memoryview", "exit", "quit", "help", "__builtins__", "__loader__", "__spec__",
}


# Library functions that read or write files or start processes (pandas, numpy, os).
IO_NAMES = {
    "read_csv", "read_parquet", "to_csv", "to_parquet", "read_pickle", "to_pickle", "read_excel", "read_json",
    "to_json", "read_sql", "to_sql", "read_html", "read_xml", "read_fwf", "read_table", "read_feather", "read_hdf",
    "read_clipboard", "to_clipboard", "to_excel", "to_hdf", "to_feather", "to_markdown", "to_latex", "to_html", "to_xml",
    "load", "save", "savez", "loadtxt", "savetxt", "genfromtxt", "fromfile", "tofile", "memmap", "system", "popen",
}


class PolicyViolation(ValueError):
    pass


def check_script(source: str) -> list[str]:
    """Return the policy violations of a script, each with its line; empty when it passes."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"line {error.lineno}: syntax error: {error.msg}"]
    problems = []
    has_entry = False
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in ALLOWED_MODULES:
                    problems.append(f"line {line}: import of {alias.name!r} is not allowed")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                if alias.name in IO_NAMES or alias.name == "*":
                    problems.append(f"line {line}: import of {alias.name!r} from {module!r} is not allowed")
                    continue
                if module in ALLOWED_MODULES or (module, alias.name) in ALLOWED_FROM:
                    continue
                problems.append(f"line {line}: import from {module!r} is not allowed")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            problems.append(f"line {line}: use of {node.id!r} is not allowed")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__") and node.attr.endswith("__"):
            problems.append(f"line {line}: access to dunder attribute {node.attr!r} is not allowed")
        elif isinstance(node, ast.Name) and node.id in IO_NAMES:
            problems.append(f"line {line}: file or process access through {node.id!r} is not allowed")
        elif isinstance(node, ast.Attribute) and node.attr in IO_NAMES:
            problems.append(f"line {line}: file or process access through {node.attr!r} is not allowed")
        elif isinstance(node, ast.FunctionDef) and node.name == "transform":
            has_entry = True
    if not has_entry:
        problems.append("the script defines no transform() entry point")
    return problems
