"""The JSON Schemas of the intake and of the catalogue files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas import CommuneProfile, Convention, ConventionType

SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "convention.schema.json": Convention,
    "convention-type.schema.json": ConventionType,
    "commune-profile.schema.json": CommuneProfile,
}


def intake_schema() -> dict[str, Any]:
    """The convention as an intake form: validation mode (derived figures are not typed),
    with the commune optional since the commune profile fills it."""
    schema = Convention.model_json_schema(mode="validation")
    schema["required"] = [r for r in schema.get("required", []) if r != "commune"]
    schema["$id"] = "https://fiftyfifty.invalid/schemas/convention.schema.json"
    return schema


def schemas() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {"convention.schema.json": intake_schema()}
    for name, model in SCHEMA_FILES.items():
        if name not in out:
            out[name] = model.model_json_schema(mode="validation")
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def export(out_dir: Path) -> list[Path]:
    """Write every schema into ``out_dir``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = out_dir / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written
