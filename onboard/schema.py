"""The target schema: the bank's standard format, loaded from a YAML data file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

DEFAULT_SCHEMA_PATH = Path(__file__).parent / "data" / "target_schema.yaml"

FIELD_TYPES = {"string", "enum", "date", "decimal", "iban", "bic", "currency", "country", "email", "phone"}


class TargetField(BaseModel):
    name: str
    type: str
    required: bool = False
    values: list[str] | None = None
    standard: str | None = None
    note: str | None = None


class Entity(BaseModel):
    name: str
    key: str
    fields: dict[str, TargetField]
    references: dict[str, str] = Field(default_factory=dict)
    amount_field: str | None = None

    @property
    def required(self) -> list[str]:
        return [name for name, field in self.fields.items() if field.required]


class TargetSchema(BaseModel):
    version: int
    entities: dict[str, Entity]

    def entity(self, name: str) -> Entity:
        try:
            return self.entities[name]
        except KeyError:
            known = ", ".join(self.entities)
            raise ValueError(f"unknown entity {name!r}; the target schema defines: {known}") from None


def parse_schema(data: dict) -> TargetSchema:
    entities = {}
    for entity_name, body in data["entities"].items():
        fields = {}
        for field_name, attrs in body["fields"].items():
            field = TargetField(name=field_name, **attrs)
            if field.type not in FIELD_TYPES:
                raise ValueError(f"field {entity_name}.{field_name}: unknown type {field.type!r}")
            fields[field_name] = field
        entities[entity_name] = Entity(
            name=entity_name,
            key=body["key"],
            fields=fields,
            references=body.get("references", {}),
            amount_field=body.get("amount_field"),
        )
    return TargetSchema(version=data.get("version", 1), entities=entities)


@lru_cache(maxsize=4)
def load_schema(path: str | None = None) -> TargetSchema:
    """Load the target schema from `path`, or the default one shipped with the package."""
    source = Path(path) if path else DEFAULT_SCHEMA_PATH
    with source.open(encoding="utf-8") as handle:
        return parse_schema(yaml.safe_load(handle))
