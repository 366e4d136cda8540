"""Benchmark: execute and load of a known-format transaction file, beside a reference pipeline.

For each size, a file in the Northwind statement layout is generated; the format is approved
once on the shipped sample, so the large file reuses it and needs no approval, as in daily use.
The product's run is one `onboard run` process (ingest, profile, trial, execute over chunks,
load, reconcile), with its execute and load steps timed from the run's trace; the reference
is pyarrow's CSV reader, the same conversions in polars and an SQLite insert, run by this
script in a fresh interpreter. Peak memory is the largest sum of resident memory of the
measured process and all its children (function workers and sandboxes), sampled every 50 ms.

    python benchmarks/large_run.py --rows 100000 1000000 --repeats 3 --workers 1 2

Writes the section between its markers in BENCHMARKS.md. Needs the `benchmark` extra (polars, psutil).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "samples" / "northwind_2026-11.csv"
START, END = "<!-- large-run:start -->", "<!-- large-run:end -->"
HEADER = "Txn Date;Value Date;Txn ID;Counterparty;Details;Amount;Dr/Cr;Ccy;Running Balance;Reference"
COUNTERPARTIES = ["Fabrikam Utilities", "Adatum Corporation", "Northwind Payroll", "Tailspin Toys GmbH", "Contoso Ltd", "Wide World Importers"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write a Northwind statement export with `rows` transactions, unique ids and exact amounts."""
    rng = random.Random(seed)
    day0 = dt.date(2026, 1, 1)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("Northwind Bank plc - statement export\nAccount;GB33BUKB20201555555555\nPeriod;01/01/2026 - 31/12/2026\n\n")
        out.write(HEADER + "\n")
        balance = 100_000_00
        for number in range(rows):
            day = day0 + dt.timedelta(days=number * 365 // max(rows, 1))
            cents = rng.randint(1, 900_000)
            debit = rng.random() < 0.6
            balance += -cents if debit else cents
            amount = f"{cents // 100:,}.{cents % 100:02d}"
            bal = f"{'-' if balance < 0 else ''}{abs(balance) // 100:,}.{abs(balance) % 100:02d}"
            out.write(
                f"{day:%d/%m/%Y};{day:%d/%m/%Y};NWB-{number:09d};{rng.choice(COUNTERPARTIES)};Invoice {rng.randint(1000, 9999)};"
                f"{amount};{'DR' if debit else 'CR'};GBP;{bal};REF-{number:09d}\n"
            )


def _tree_rss_mb(root) -> float:
    import psutil

    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for proc in processes:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def measured(command: list[str], env: dict) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run `command`; returns its result, wall seconds and the peak resident memory of its process tree in MiB."""
    import psutil

    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT)
    root = psutil.Process(process.pid)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, _tree_rss_mb(root))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    out, err = process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, out, err), seconds, peak


def _onboard(home: Path, workers: int) -> tuple[str, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_")}
    env.update(ONBOARD_HOME=str(home), ONBOARD_MAX_WORKERS=str(workers), ONBOARD_SANDBOX_BACKEND=os.environ["ONBOARD_SANDBOX_BACKEND"])
    return str(Path(sys.executable).parent / "onboard"), env


def seed_format(home: Path) -> None:
    """Approve the Northwind format once, so the benchmark file is a known format."""
    onboard, env = _onboard(home, 1)
    started = subprocess.run([onboard, "run", str(SAMPLE), "--client", "benchmark", "--json"], env=env, capture_output=True, text=True)
    thread = json.loads(started.stdout)["thread_id"]
    approved = subprocess.run([onboard, "approve", thread, "--by", "benchmark", "--json"], env=env, capture_output=True, text=True)
    if approved.returncode != 0:
        raise SystemExit(f"seeding the format failed: {approved.stderr[-2000:]}")


def product_run(path: Path, home: Path, workers: int) -> dict:
    """Run `onboard run` on the large file in its own process; return seconds per step and the peak memory of its processes."""
    onboard, env = _onboard(home, workers)
    result, total, peak = measured([onboard, "run", str(path), "--client", "benchmark", "--json"], env)
    if result.returncode != 0:
        raise SystemExit(f"benchmark run failed ({result.returncode}): {result.stderr[-2000:]}")
    summary = json.loads(result.stdout)
    os.environ["ONBOARD_HOME"] = str(home)
    from graph import runner

    trace = runner.values(summary["thread_id"]).get("trace", [])
    seconds = {entry["step"]: entry["seconds"] for entry in trace if "seconds" in entry}
    return {"total_s": total, "execute_s": seconds["execute"], "load_s": seconds["integrator"], "peak_mb": peak, "rows": summary.get("rows_loaded")}


def reference_run(path: Path, database: Path) -> dict:
    """Run the reference pipeline in a fresh interpreter, measured the same way as the product's run."""
    result, total, peak = measured([sys.executable, __file__, "--reference", str(path), str(database)], dict(os.environ))
    if result.returncode != 0:
        raise SystemExit(f"reference run failed: {result.stderr[-2000:]}")
    return {"total_s": total, "peak_mb": peak, "rows": int(result.stdout.strip())}


def reference_pipeline(path: Path, database: Path) -> int:
    """pyarrow CSV read, the same conversions in polars, an SQLite insert in one transaction."""
    import polars as pl
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=4),
        parse_options=pacsv.ParseOptions(delimiter=";"),
        convert_options=pacsv.ConvertOptions(column_types={name: "string" for name in HEADER.split(";")}),
    )
    frame = pl.from_arrow(table)
    amount = pl.col("Amount").str.replace_all(",", "").cast(pl.Decimal(18, 2))
    frame = frame.select(
        pl.col("Txn ID").alias("transaction_id"),
        pl.lit("GB33BUKB20201555555555").alias("account_id"),
        pl.col("Txn Date").str.strptime(pl.Date, "%d/%m/%Y").cast(pl.String).alias("booking_date"),
        pl.col("Value Date").str.strptime(pl.Date, "%d/%m/%Y").cast(pl.String).alias("value_date"),
        pl.when(pl.col("Dr/Cr") == "DR").then(-amount).otherwise(amount).cast(pl.String).alias("amount"),
        pl.col("Ccy").alias("currency"),
        pl.col("Details").alias("description"),
        pl.col("Counterparty").alias("counterparty_name"),
        pl.col("Reference").alias("reference"),
        pl.col("Running Balance").str.replace_all(",", "").cast(pl.Decimal(18, 2)).cast(pl.String).alias("balance_after"),
    )
    connection = sqlite3.connect(database)
    columns = frame.columns
    connection.execute(f"CREATE TABLE transactions ({', '.join(c + ' TEXT' for c in columns)}, PRIMARY KEY (transaction_id))")
    with connection:
        connection.executemany(f"INSERT INTO transactions VALUES ({', '.join('?' for _ in columns)})", frame.iter_rows())
    connection.close()
    return frame.height


def cold_imports() -> list[tuple[str, float, float]]:
    """Measure each handler's cold import time (median of 3 fresh interpreters) and the size of what it imports."""
    import subprocess

    from serverless.events import FUNCTIONS

    rows = []
    for name in FUNCTIONS:
        code = (
            "import sys, time; t = time.perf_counter(); "
            f"import serverless.functions.{name}; d = time.perf_counter() - t; "
            "import os; files = {getattr(m, '__file__', None) for m in list(sys.modules.values())}; "
            "roots = set(); "
            "[roots.add(f.split('site-packages/')[1].split('/')[0]) for f in files if f and 'site-packages/' in f]; "
            "print(d); print(','.join(sorted(roots)))"
        )
        times, roots = [], ""
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True).stdout.split("\n")
            times.append(float(out[0]))
            roots = out[1]
        rows.append((name, statistics.median(times), _package_mb(roots.split(",") if roots else [])))
    return rows


def _package_mb(roots: list[str]) -> float:
    """Disk size of the installed packages a handler imports plus the project's own code, in MiB."""
    import site

    total = 0
    bases = [Path(p) for p in site.getsitepackages()]
    for root in roots:
        for base in bases:
            folder = base / root
            if folder.is_dir():
                total += sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
            elif folder.with_suffix(".py").exists():
                total += folder.with_suffix(".py").stat().st_size
    for own in ("onboard", "serverless", "agents"):
        total += sum(f.stat().st_size for f in (PROJECT / own).rglob("*") if f.is_file() and "__pycache__" not in f.parts)
    return total / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--output", type=Path, default=PROJECT / "BENCHMARKS.md")
    parser.add_argument("--reference", nargs=2, type=Path, metavar=("CSV", "DATABASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference:
        print(reference_pipeline(*args.reference))
        return
    sys.path.insert(0, str(PROJECT))
    os.environ.setdefault("ONBOARD_SANDBOX_BACKEND", "auto")

    lines = [
        START,
        "## Large files: execute and load (benchmarks/large_run.py)",
        "",
        f"Run on {dt.date.today():%Y-%m-%d}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, sandbox backend "
        f"{os.environ['ONBOARD_SANDBOX_BACKEND']}, chunk rows {os.environ.get('ONBOARD_CHUNK_ROWS', '50000')}, median of {args.repeats} runs. "
        "The file is a Northwind statement export in a format the library already holds (no approval). "
        "Reference: pyarrow CSV read, the same conversions in polars (dates, thousands separators, "
        "sign from Dr/Cr, Decimal), SQLite insert in one transaction, in a fresh interpreter started by the same benchmark. "
        "Peak memory: largest resident memory of the measured process tree (the `onboard run` process with its "
        "function workers and sandboxes; the reference's interpreter). Execute and load times come from the run's trace; "
        "the whole run is the wall time of `onboard run`, interpreter start included.",
        "",
        "| rows | workers | execute s | load s | execute+load rows/s | whole run s | peak MiB | reference s | reference rows/s | reference peak MiB | (execute+load) / reference |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    speedups = []
    with tempfile.TemporaryDirectory(prefix="onboard-bench-") as scratch:
        scratch = Path(scratch)
        for rows in args.rows:
            data = scratch / f"northwind_{rows}.csv"
            generate(data, rows)
            per_workers = {}
            for workers in args.workers:
                runs, refs = [], []
                for repeat in range(args.repeats):
                    home = scratch / f"home-{rows}-{workers}-{repeat}"
                    seed_format(home)
                    runs.append(product_run(data, home, workers))
                    refs.append(reference_run(data, scratch / f"reference-{rows}-{workers}-{repeat}.sqlite"))
                    print(f"{rows} rows, {workers} workers, run {repeat + 1}: {runs[-1]} reference {refs[-1]}", flush=True)
                med = {k: statistics.median(r[k] for r in runs) for k in ("total_s", "execute_s", "load_s", "peak_mb")}
                ref = {k: statistics.median(r[k] for r in refs) for k in ("total_s", "peak_mb")}
                per_workers[workers] = med["execute_s"] + med["load_s"]
                both = med["execute_s"] + med["load_s"]
                lines.append(
                    f"| {rows:,} | {workers} | {med['execute_s']:.1f} | {med['load_s']:.1f} | {rows / both:,.0f} | {med['total_s']:.1f} | {med['peak_mb']:,.0f} | "
                    f"{ref['total_s']:.1f} | {rows / ref['total_s']:,.0f} | {ref['peak_mb']:,.0f} | {both / ref['total_s']:.1f}x |"
                )
            if 1 in per_workers and 2 in per_workers:
                speedups.append(f"{rows:,} rows: execute+load with 2 workers is {per_workers[1] / per_workers[2]:.2f}x as fast as with 1")
    lines += ["", "Speed-up from 1 to 2 workers: " + ("; ".join(speedups) if speedups else "not measured (run with --workers 1 2)") + ".", ""]
    lines += ["Handler cold import (median of 3 fresh interpreters) and the disk size of the packages it imports:", "",
              "| function | cold import s | packages MiB |", "| --- | --- | --- |"]
    lines += [f"| {name} | {seconds:.2f} | {size:,.0f} |" for name, seconds, size in cold_imports()]
    lines.append(END)
    _write_section(args.output, "\n".join(lines))
    print("\n".join(lines))


def _write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
