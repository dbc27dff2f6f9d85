"""Simulated tool arguments, checked against their schemas by a small independent validator."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from llm_gateway.sim.completion import complete
from llm_gateway.sim.directives import parse_directives
from llm_gateway.sim.schema import example_value

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def violations(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Why ``value`` fails ``schema`` (the subset tool schemas use); empty when it is valid."""
    found: list[str] = []
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: not the const")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: not in enum")
    for alternatives in (schema.get("anyOf"), schema.get("oneOf")):
        if alternatives and all(violations(value, alt, path) for alt in alternatives):
            found.append(f"{path}: matches no alternative")
    for part in schema.get("allOf", []):
        found += violations(value, part, path)
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        is_bool = isinstance(value, bool)
        if not any(isinstance(value, _TYPES[k]) and (k == "boolean") == is_bool for k in kinds):
            return [*found, f"{path}: not {kind}"]
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{path}: missing {name}")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                found += violations(value[name], sub, f"{path}.{name}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{path}: too few items")
        for index, item in enumerate(value):
            found += violations(item, schema.get("items", {}), f"{path}[{index}]")
    if isinstance(value, str) and not (
        schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value))
    ):
        found.append(f"{path}: wrong length")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: above maximum")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            found.append(f"{path}: not above exclusiveMinimum")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            found.append(f"{path}: not below exclusiveMaximum")
    return found


def test_the_validator_catches_wrong_values() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "maximum": 3}},
        "required": ["s"],
    }
    assert violations({"n": 5}, schema) == ["$: missing s", "$.n: above maximum"]
    assert violations({"n": True, "s": 1}, schema) == ["$.n: not integer"]


SCHEMAS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "short string": {"type": "string", "maxLength": 3},
    "long string": {"type": "string", "minLength": 12, "maxLength": 12},
    "integer": {"type": "integer"},
    "integer in range": {"type": "integer", "minimum": 10, "maximum": 20},
    "integer above": {"type": "integer", "exclusiveMinimum": 7},
    "integer below": {"type": "integer", "exclusiveMaximum": -4},
    "integer at most": {"type": "integer", "maximum": 0},
    "number": {"type": "number"},
    "number in range": {"type": "number", "minimum": 0.25, "maximum": 0.5},
    "number below": {"type": "number", "exclusiveMaximum": -1},
    "number above": {"type": "number", "exclusiveMinimum": 100},
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
    "nullable": {"type": ["null", "integer"]},
    "enum": {"enum": ["red", "green"]},
    "const": {"const": 42},
    "array": {"type": "array", "items": {"type": "integer"}},
    "array with minimum": {"type": "array", "items": {"type": "string"}, "minItems": 3},
    "anyOf": {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
    "allOf": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"]},
        ]
    },
    "untyped object": {"properties": {"x": {"type": "boolean"}}},
    "nested": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
            "unit": {"type": "string", "enum": ["c", "f"]},
            "stops": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"lat": {"type": "number"}, "ok": {"type": "boolean"}},
                    "required": ["lat"],
                },
            },
        },
        "required": ["city", "days", "unit", "undeclared"],
    },
}


@pytest.mark.parametrize("name", SCHEMAS)
def test_example_values_satisfy_their_schema(name: str) -> None:
    schema = SCHEMAS[name]
    value = example_value(schema)
    assert violations(value, schema) == []
    assert example_value(schema) == value


def test_objects_get_their_required_properties_or_else_every_property() -> None:
    value = example_value(SCHEMAS["nested"])
    assert value == {"city": "sample", "days": 1, "unit": "c", "undeclared": "sample"}
    stops = SCHEMAS["nested"]["properties"]["stops"]
    assert example_value(stops) == [{"lat": 1.5}]
    assert example_value(SCHEMAS["untyped object"]) == {"x": True}


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_tool_call_arguments_satisfy_the_tool_schema(api: Any) -> None:
    schema = SCHEMAS["nested"]
    if api == "openai":
        tool: dict[str, Any] = {
            "type": "function",
            "function": {"name": "trip", "parameters": schema},
        }
    else:
        tool = {"name": "trip", "input_schema": schema}
    body = {"model": "sim+tool", "max_tokens": 50, "messages": [], "tools": [tool]}
    call = complete(api, body, parse_directives("sim+tool")).tool_call
    assert call is not None
    assert violations(orjson.loads(call.arguments), schema) == []


def test_a_tool_without_a_schema_gets_an_empty_object() -> None:
    body = {
        "model": "sim+tool",
        "messages": [],
        "tools": [{"type": "function", "function": {"name": "ping"}}],
    }
    call = complete("openai", body, parse_directives("sim+tool")).tool_call
    assert call is not None
    assert call.arguments == "{}"
