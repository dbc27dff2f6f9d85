"""Make up a value that satisfies a JSON schema, for simulated tool calls.

Tool parameters are described by the subset of JSON Schema that function calling uses:
``type`` (possibly a list), ``properties``/``required``, ``items``, ``enum``/``const``,
``anyOf``/``oneOf``/``allOf``, and the numeric and length bounds. The value is always the
same for the same schema, and the smallest sensible one: the first enum member, the
lower bound, one array item, the required properties (every declared one when the schema
lists none as required).
"""

from __future__ import annotations

import math
from typing import Any

_SAMPLE_TEXT = "sample"


def example_value(schema: Any) -> Any:
    """A value valid against ``schema``; an empty or unknown schema accepts a string."""
    if not isinstance(schema, dict):
        return _SAMPLE_TEXT
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf"):
        alternatives = schema.get(combinator)
        if isinstance(alternatives, list) and alternatives:
            return example_value(alternatives[0])
    parts = schema.get("allOf")
    if isinstance(parts, list) and parts:
        return _example_all_of(parts)
    kind = _type_of(schema)
    if kind == "object":
        return _example_object(schema)
    if kind == "array":
        count = max(1, _int_bound(schema, "minItems", 0))
        return [example_value(schema.get("items")) for _ in range(count)]
    if kind == "integer":
        return _example_integer(schema)
    if kind == "number":
        return _example_number(schema)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _example_string(schema)


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _example_object(schema: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        properties = {}
    required = schema.get("required")
    if not isinstance(required, list):
        return {name: example_value(sub) for name, sub in properties.items()}
    # Only what is required, as a model fills in a tool call: an optional property
    # (a shell to launch, a directory to run in) made up as "sample" would break the call.
    return {name: example_value(properties.get(name)) for name in required if isinstance(name, str)}


def _example_all_of(parts: list[Any]) -> Any:
    # The parts of an allOf in a tool schema are objects that each add properties.
    values = [example_value(part) for part in parts]
    if all(isinstance(value, dict) for value in values):
        return {name: item for value in values for name, item in value.items()}
    return values[0]


def _example_string(schema: dict[str, Any]) -> str:
    low = _int_bound(schema, "minLength", 0)
    high = _int_bound(schema, "maxLength", max(low, len(_SAMPLE_TEXT)))
    text = _SAMPLE_TEXT.ljust(low, "x")
    return text[:high]


def _example_integer(schema: dict[str, Any]) -> int:
    minimum, exclusive_minimum = _number(schema, "minimum"), _number(schema, "exclusiveMinimum")
    maximum, exclusive_maximum = _number(schema, "maximum"), _number(schema, "exclusiveMaximum")
    if minimum is not None:
        return math.ceil(minimum)
    if exclusive_minimum is not None:
        return math.floor(exclusive_minimum) + 1
    if maximum is not None:
        return min(1, math.floor(maximum))
    if exclusive_maximum is not None:
        return min(1, math.ceil(exclusive_maximum) - 1)
    return 1


def _example_number(schema: dict[str, Any]) -> float:
    low = _first_number(schema, "minimum", "exclusiveMinimum")
    high = _first_number(schema, "maximum", "exclusiveMaximum")
    if low is not None and high is not None:
        return (low + high) / 2
    if low is not None:
        return low + 1.0
    if high is not None:
        return high - 1.0
    return 1.5


def _first_number(schema: dict[str, Any], *keys: str) -> float | None:
    return next((value for key in keys if (value := _number(schema, key)) is not None), None)


def _number(schema: dict[str, Any], key: str) -> float | None:
    value = schema.get(key)
    # bool is an int to Python but not a number to JSON Schema (draft 4 used it as a flag).
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _int_bound(schema: dict[str, Any], key: str, default: int) -> int:
    value = schema.get(key)
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
    )
