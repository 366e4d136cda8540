"""Harness that runs inside the sandbox process: load the script, call transform, write output.

Run as `python -I sandbox_runner.py WORKDIR`. Reads WORKDIR/input.parquet and WORKDIR/script.py
and writes WORKDIR/output.parquet and WORKDIR/result.json. Every cell is text or null.
"""

import importlib.util
import json
import sys
import traceback
from pathlib import Path

LINE_COLUMN = "_line"


def main(workdir: Path) -> int:
    result_path = workdir / "result.json"
    try:
        import pandas as pd

        table = pd.read_parquet(workdir / "input.parquet")
        lines = table.pop(LINE_COLUMN)
        table = table.astype(object).where(table.notna(), None)
        spec = importlib.util.spec_from_file_location("client_transform", workdir / "script.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        output = module.transform(table)
        if not isinstance(output, pd.DataFrame):
            raise TypeError(f"transform returned {type(output).__name__}, expected a pandas DataFrame")
        if len(output) > len(table):
            raise ValueError(f"transform returned {len(output)} rows for {len(table)} input rows")
        if not output.index.isin(table.index).all():
            raise ValueError("transform returned rows whose index is not in the input")
        output = output.astype(object).where(output.notna(), None)
        output = output.map(lambda cell: None if cell is None else str(cell))
        output.insert(0, LINE_COLUMN, lines.loc[output.index].astype("int64"))
        output.columns = [str(c) for c in output.columns]
        output.to_parquet(workdir / "output.parquet", index=False)
        result_path.write_text(json.dumps({"status": "ok", "rows": len(output)}))
        return 0
    except BaseException as error:  # report every failure of untrusted code as data
        result_path.write_text(json.dumps({
            "status": "error",
            "error_name": type(error).__name__,
            "message": str(error)[:2000],
            "traceback": traceback.format_exc()[-8000:],
        }))
        return 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
