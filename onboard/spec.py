"""The mapping spec: how a client's source format maps to one entity of the target schema.

The spec is the central artifact: the analyst proposes it, the coder compiles it into a
script, a person approves it. Its JSON schema is what a model fills by structured output.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

# The closed, typed set of transforms the compiler knows. Parameters per transform:
#   copy                 -
#   parse_date           format (strptime pattern; "%y" years pivot as Python's strptime does)
#   parse_decimal        decimal (separator), thousands (separator or "")
#   negate               decimal, thousands
#   sign_from_indicator  decimal, thousands, debit_values (list), credit_values (list);
#                        sources = [amount column, indicator column]
#   debit_credit_pair    decimal, thousands; sources = [debit column, credit column]
#   concatenate          separator
#   split                separator, index
#   map_values           mapping (dict source value -> target value), default (optional)
#   country_to_iso       -
#   phone_to_e164        default_region (ISO 3166 alpha-2, optional)
#   iban_normalize       -
#   birth_number_to_date - (Czech and Slovak birth numbers, YYMMDD with month +50 for women)
#   constant             value (sources empty)
#   coalesce             sources in order of preference
#   row_hash             - (a stable id built from the other mapped fields when the file has none)
#   custom               function (the name of one of the spec's custom_transforms); it gets
#                        the sources' cell texts in order and returns the target text
TransformName = Literal[
    "copy",
    "parse_date",
    "parse_decimal",
    "negate",
    "sign_from_indicator",
    "debit_credit_pair",
    "concatenate",
    "split",
    "map_values",
    "country_to_iso",
    "phone_to_e164",
    "iban_normalize",
    "birth_number_to_date",
    "constant",
    "coalesce",
    "row_hash",
    "custom",
]


# Lines above a table ("Account;GB33...") become columns named with this prefix, one value
# on every row, so a script reads each file's own value and a reused format never carries
# the first file's account over to the next.
PREAMBLE_COLUMN_PREFIX = "preamble:"


def preamble_column(key: str) -> str:
    return f"{PREAMBLE_COLUMN_PREFIX}{key}"


def is_preamble_column(name: str) -> bool:
    return name.startswith(PREAMBLE_COLUMN_PREFIX)


def add_preamble_columns(frame, source: "SourceFormat") -> None:
    """Add the preamble's values as columns of `frame` and name them in `source.columns`."""
    added = {preamble_column(key): value for key, value in source.preamble.items() if preamble_column(key) not in frame.columns}
    for column, value in added.items():
        frame[column] = value
    source.columns = list(source.columns) + [c for c in added if c not in source.columns]


class SourceFormat(BaseModel):
    kind: Literal[
        "csv", "xlsx", "xls", "json", "swift_mt", "bai2", "nacha",
        "camt.052", "camt.053", "camt.054", "pain.001", "pain.008", "ofx", "qif",
    ]
    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = '"'
    header_row: int | None = Field(None, description="0-based line (or sheet row) of the header; None when the file has none")
    skip_top: int = 0
    skip_bottom: int = 0
    decimal: str | None = None
    thousands: str | None = None
    sheet: str | None = None
    record_path: str | None = None
    columns: list[str] = Field(default_factory=list, description="source column names in file order")
    preamble: dict[str, str] = Field(default_factory=dict, description="key/value lines above the header")


class FieldMapping(BaseModel):
    target: str
    sources: list[str] = Field(default_factory=list)
    transform: TransformName = "copy"
    params: dict[str, Any] = Field(default_factory=dict)
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    rationale: str = ""


class UnmappedItem(BaseModel):
    name: str
    kind: Literal["source_column", "target_field"]
    reason: str


class CustomTransform(BaseModel):
    """A function for a field the closed set cannot express, compiled into the script.

    `code` defines one function named `name` that takes the cell texts of the mapping's sources
    and returns the target text, or raises ValueError to reject the row. It passes the same
    import policy and sandbox trial as the rest of the script, and the review packet marks it.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    field: str
    code: str = Field(max_length=4000)
    written_by: Literal["model", "person"] = "model"


class MappingSpec(BaseModel):
    entity: Literal["customer", "account", "transaction"]
    source: SourceFormat
    mappings: list[FieldMapping]
    unmapped: list[UnmappedItem] = Field(default_factory=list)
    entity_rationale: str = ""
    custom_transforms: list[CustomTransform] = Field(default_factory=list)

    def mapping_for(self, target: str) -> FieldMapping | None:
        for mapping in self.mappings:
            if mapping.target == target:
                return mapping
        return None

    def canonical_json(self) -> str:
        """Serialise what decides the conversion, sorted, so equal specs hash equal.

        Rationales, confidences and the reasons for unmapped items explain a proposal but
        change no output row, so they are left out of the hash.
        """
        exclude: dict = {"entity_rationale": True, "unmapped": True, "mappings": {"__all__": {"rationale", "confidence"}}}
        if not self.custom_transforms:
            # Specs without custom code hash as they did before the field existed.
            exclude["custom_transforms"] = True
        data = self.model_dump(mode="json", exclude=exclude)
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def spec_json_schema() -> dict:
    return MappingSpec.model_json_schema()
