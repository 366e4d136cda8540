"""Import policy for generated scripts, checked on the syntax tree before anything runs.

This is the second wall: the sandbox's process isolation is the first and must hold alone.
The policy rejects what a static check can see of the ways out of plain data code. That is
imports outside the allow list and builtins that compile, import or open. It is also attribute
walks to interpreter internals (dunder and private attributes, frames, `str.format`), library
calls that read or write files, and assignments that monkey-patch an imported module. Values
computed at run time, such as a name built with chr(), can still get past it.
"""

from __future__ import annotations

import ast

ALLOWED_MODULES = {"pandas", "numpy", "pyarrow", "decimal", "datetime", "re", "math", "onboard.transforms"}
ALLOWED_FROM = {("onboard", "transforms")}
FORBIDDEN_NAMES = {
    "open", "eval", "exec", "__import__", "compile", "globals", "locals", "vars", "getattr", "setattr",
    "delattr", "input", "breakpoint", "memoryview", "exit", "quit", "help", "dir", "__builtins__", "__loader__", "__spec__",
}

# Library functions and classes that read or write files or start processes (pandas, numpy,
# pyarrow, os). Any attribute that starts with `read_` is rejected too.
IO_NAMES = {
    "read_csv", "read_parquet", "to_csv", "to_parquet", "read_pickle", "to_pickle", "read_excel", "read_json",
    "to_json", "read_sql", "to_sql", "read_html", "read_xml", "read_fwf", "read_table", "read_feather", "read_hdf",
    "read_clipboard", "to_clipboard", "to_excel", "to_hdf", "to_feather", "to_markdown", "to_latex", "to_html", "to_xml",
    "to_stata", "to_orc", "to_gbq", "to_string", "ExcelFile", "ExcelWriter", "HDFStore",
    "load", "save", "savez", "savez_compressed", "loadtxt", "savetxt", "genfromtxt", "fromfile", "fromregex", "tofile",
    "memmap", "open_memmap", "DataSource", "dump", "dumps", "system", "popen",
    "OSFile", "PythonFile", "memory_map", "create_memory_map", "input_stream", "output_stream",
    "LocalFileSystem", "HadoopFileSystem", "S3FileSystem", "GcsFileSystem", "SubTreeFileSystem",
}

# `to_` methods that only convert values in memory; every other `to_` attribute is rejected.
IN_MEMORY_TO = {
    "to_datetime", "to_numeric", "to_timedelta", "to_dict", "to_list", "to_numpy", "to_frame", "to_period",
    "to_timestamp", "to_records", "to_pydatetime", "to_pytimedelta", "to_series", "to_flat_index", "to_pylist",
    "to_pandas", "to_integral_value", "to_eng_string", "to_integral", "to_integral_exact",
}

# Attributes that lead from an allowed module or object to modules, frames, code or evaluators.
ESCAPE_ATTRIBUTES = {
    "os", "sys", "modules", "subprocess", "builtins", "importlib", "ctypes", "ctypeslib", "pickle", "marshal",
    "socket", "shutil", "pathlib", "mmap", "io", "fs", "lib", "testing", "f2py", "distutils", "compat", "util",
    "core", "dataset", "ipc", "csv", "json", "parquet", "feather", "orc", "flight", "cuda", "jvm", "plasma",
    "substrait", "hdfs", "eval", "exec", "query", "format", "format_map", "mro",
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "f_trace", "tb_frame", "tb_next", "co_code", "co_consts",
}


class PolicyViolation(ValueError):
    pass


def imported_names(tree: ast.AST) -> set[str]:
    """Return the names that import statements bind in the script."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def docstring_ids(tree: ast.AST) -> set[int]:
    """Return the ids of string constants that stand alone as statements (docstrings)."""
    return {
        id(node.value) for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def import_problem(node: ast.Import | ast.ImportFrom) -> list[str]:
    problems = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in ALLOWED_MODULES:
                problems.append(f"import of {alias.name!r} is not allowed")
        return problems
    module = node.module or ""
    if node.level:
        return [f"relative import from {'.' * node.level}{module!r} is not allowed"]
    for alias in node.names:
        if alias.name in IO_NAMES or alias.name == "*" or alias.name.startswith("read_"):
            problems.append(f"import of {alias.name!r} from {module!r} is not allowed")
        elif module in ALLOWED_MODULES or (module, alias.name) in ALLOWED_FROM:
            if alias.name.startswith("_"):
                problems.append(f"import of private name {alias.name!r} from {module!r} is not allowed")
        else:
            problems.append(f"import from {module!r} is not allowed")
    return problems


def attribute_problem(node: ast.Attribute, modules: set[str]) -> str | None:
    name = node.attr
    if name.startswith("__") and name.endswith("__"):
        return f"access to dunder attribute {name!r} is not allowed"
    if name.startswith("_"):
        return f"access to private attribute {name!r} is not allowed"
    if name in IO_NAMES or name.startswith("read_") or (name.startswith("to_") and name not in IN_MEMORY_TO):
        return f"file or process access through {name!r} is not allowed"
    if name in ESCAPE_ATTRIBUTES:
        return f"access to attribute {name!r} is not allowed"
    if isinstance(node.ctx, (ast.Store, ast.Del)) and root_name(node) in modules:
        return f"changing attribute {name!r} of imported module {root_name(node)!r} is not allowed"
    return None


def node_problem(node: ast.AST, modules: set[str], docstrings: set[int]) -> list[str]:
    """Return the problems of one node, at most one unless the node imports several names."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return import_problem(node)
    if isinstance(node, ast.Name):
        if node.id in FORBIDDEN_NAMES or node.id.startswith("__"):
            return [f"use of {node.id!r} is not allowed"]
        if node.id in IO_NAMES:
            return [f"file or process access through {node.id!r} is not allowed"]
    elif isinstance(node, ast.Attribute):
        problem = attribute_problem(node, modules)
        return [problem] if problem else []
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name.startswith("__"):
        return [f"definition of {node.name!r} is not allowed"]
    elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and id(node) not in docstrings:
        marker = "__" if isinstance(node.value, str) else b"__"
        if marker in node.value:
            return ["a string containing '__' is not allowed (it can name interpreter internals)"]
    return []


def check_script(source: str) -> list[str]:
    """Return the policy violations of a script, each with its line; empty when it passes."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"line {error.lineno}: syntax error: {error.msg}"]
    modules = imported_names(tree)
    docstrings = docstring_ids(tree)
    problems = []
    has_entry = False
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        problems += [f"line {line}: {problem}" for problem in node_problem(node, modules, docstrings)]
        if isinstance(node, ast.FunctionDef) and node.name == "transform":
            has_entry = True
    if not has_entry:
        problems.append("the script defines no transform() entry point")
    return problems
