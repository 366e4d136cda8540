"""Write the generated eval cases: `python -m evals.generate --out evals/cases/generated --seed 7`.

Every case folder under --out is removed and written again. The same seed gives
byte-identical files, because each case draws from its own random.Random seeded with the
seed and the case name, and no file stores the current time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import Counter
from pathlib import Path

from evals.generators import accounts, customers, transactions
from evals.generators.common import CaseSpec, write_case

ALL_CASES: list[CaseSpec] = customers.CASES + accounts.CASES + transactions.CASES


def remove_old_cases(out: Path, names: list[str]) -> int:
    """Delete the folders directly under `out` that contain a case.yaml or have a case name.

    A folder with a case name but no case.yaml is what an interrupted run leaves behind.
    Return how many folders were deleted.
    """
    removed = 0
    for folder in sorted(out.iterdir()):
        if folder.is_dir() and ((folder / "case.yaml").exists() or folder.name in names):
            shutil.rmtree(folder)
            removed += 1
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write seeded synthetic eval cases (customer, account, transaction files).")
    parser.add_argument("--out", type=Path, default=Path("evals/cases/generated"), help="folder to write the case folders into")
    parser.add_argument("--seed", type=int, default=7, help="random seed (an integer). The same seed writes the same bytes")
    args = parser.parse_args(argv)

    names = [spec.name for spec in ALL_CASES]
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        parser.error(f"duplicate case names: {', '.join(duplicates)}")

    args.out.mkdir(parents=True, exist_ok=True)
    removed = remove_old_cases(args.out, names)
    for spec in ALL_CASES:
        write_case(spec, args.out, args.seed)

    by_entity = Counter(spec.entity for spec in ALL_CASES)
    by_language = Counter(spec.language for spec in ALL_CASES)
    print(f"removed {removed} old case folders, wrote {len(ALL_CASES)} cases to {args.out}")
    print("per entity: " + ", ".join(f"{entity} {count}" for entity, count in sorted(by_entity.items())))
    print("per language: " + ", ".join(f"{language} {count}" for language, count in sorted(by_language.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
