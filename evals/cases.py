"""Eval cases: a folder with the client file, `case.yaml` and optionally `expected.csv`.

case.yaml keys: input, entity, mapping (target field -> list of source columns),
also_accept (target field -> list of alternative column lists), expected_output,
second_input, note. Paths are relative to the case folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

ENTITIES = ("customer", "account", "transaction")


class CaseError(ValueError):
    """A case folder that does not follow the case format."""


@dataclass
class Case:
    name: str
    folder: Path
    input: Path
    entity: str
    mapping: dict[str, frozenset[str]]
    also_accept: dict[str, list[frozenset[str]]] = field(default_factory=dict)
    expected_output: Path | None = None
    second_input: Path | None = None
    note: str = ""
    defaults: dict[str, str] = field(default_factory=dict)

    def accepted(self, target: str) -> list[frozenset[str]]:
        answers = list(self.also_accept.get(target, []))
        if target in self.mapping:
            answers.insert(0, self.mapping[target])
        return answers


def load_case(folder: Path) -> Case:
    path = folder / "case.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CaseError(f"{path}: cannot be read as YAML ({error})") from None
    for key in ("input", "entity", "mapping"):
        if key not in data:
            raise CaseError(f"{path}: missing required key {key!r}")
    if data["entity"] not in ENTITIES:
        raise CaseError(f"{path}: entity {data['entity']!r} is not one of {', '.join(ENTITIES)}")

    def columns(value, where: str) -> frozenset[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise CaseError(f"{path}: {where} must be a non-empty list of column names")
        return frozenset(value)

    mapping = {target: columns(value, f"mapping.{target}") for target, value in (data.get("mapping") or {}).items()}
    also = {}
    for target, answers in (data.get("also_accept") or {}).items():
        if not isinstance(answers, list):
            raise CaseError(f"{path}: also_accept.{target} must be a list of column lists")
        also[target] = [columns(a, f"also_accept.{target}") for a in answers]
    expected = data.get("expected_output")
    second = data.get("second_input")
    return Case(
        name=folder.name,
        folder=folder,
        input=(folder / data["input"]).resolve(),
        entity=data["entity"],
        mapping=mapping,
        also_accept=also,
        expected_output=(folder / expected).resolve() if expected else None,
        second_input=(folder / second).resolve() if second else None,
        note=str(data.get("note") or ""),
        defaults={str(k): str(v) for k, v in (data.get("defaults") or {}).items()},
    )


def find_cases(roots: list[Path]) -> list[Case]:
    """Every folder with a case.yaml under the roots, in a stable order."""
    cases = []
    for root in roots:
        if (root / "case.yaml").exists():
            cases.append(load_case(root))
            continue
        for path in sorted(root.rglob("case.yaml")):
            cases.append(load_case(path.parent))
    return cases
