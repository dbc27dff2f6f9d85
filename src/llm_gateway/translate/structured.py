"""Structured output: OpenAI ``response_format`` <-> Anthropic ``output_config.format``.

A JSON schema maps one to one: OpenAI's ``{"type": "json_schema", "json_schema":
{"name", "schema", "strict"}}`` is Anthropic's ``{"type": "json_schema", "schema"}``
(generally available, no beta header; the beta's top-level ``output_format`` is read
too). Both constrain decoding to the schema, so the way to OpenAI asks for ``strict``.

OpenAI's ``json_object`` (any JSON object, no schema) has no Anthropic counterpart. It
becomes an instruction at the end of the system prompt and, where the model allows, a
prefilled ``{`` that the answer continues; the reply then gets its ``{`` back. Prefill is
left out when thinking is on (Anthropic refuses both together), when the conversation
already ends with the assistant, and on routes with ``json_prefill = false`` (Claude
Opus 4.6 and later refuse prefill; so does Kiro).
"""

from __future__ import annotations

from typing import Any

import orjson

from llm_gateway.errors import validation_error

JSON_PREFILL = "{"
JSON_OBJECT_INSTRUCTION = (
    "Answer with a single JSON object and nothing else: no prose, no code fences."
)


def anthropic_output_format(response_format: Any) -> dict[str, Any] | None:
    """A ``json_schema`` response format as Anthropic's; ``None`` for ``text``/``json_object``."""
    if not isinstance(response_format, dict):
        raise validation_error("response_format must be an object", param="response_format")
    kind = response_format.get("type")
    if kind in ("text", "json_object"):
        return None
    if kind != "json_schema":
        raise validation_error(
            f"response_format of type {kind!r} is not supported", param="response_format"
        )
    schema = (response_format.get("json_schema") or {}).get("schema")
    if not isinstance(schema, dict):
        raise validation_error(
            "response_format.json_schema.schema must be an object", param="response_format"
        )
    return {"type": "json_schema", "schema": schema}


def wants_json_object(body: dict[str, Any]) -> bool:
    response_format = body.get("response_format")
    return isinstance(response_format, dict) and response_format.get("type") == "json_object"


def openai_response_format(body: dict[str, Any]) -> dict[str, Any] | None:
    """An Anthropic request's output format (GA or beta field) as OpenAI ``response_format``."""
    output_format = (body.get("output_config") or {}).get("format") or body.get("output_format")
    if output_format is None:
        return None
    if output_format.get("type") != "json_schema" or not isinstance(
        output_format.get("schema"), dict
    ):
        raise validation_error(
            "output format must be {type: json_schema, schema: {...}}", param="output_config"
        )
    return {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": output_format["schema"], "strict": True},
    }


def schema_instruction(request: dict[str, Any]) -> str:
    """For upstreams with no structured output (Kiro): the output format as an instruction."""
    output_format = (request.get("output_config") or {}).get("format") or request.get(
        "output_format"
    )
    if not isinstance(output_format, dict):
        return ""
    schema = orjson.dumps(output_format.get("schema") or {}).decode()
    return f"{JSON_OBJECT_INSTRUCTION} It must match this JSON schema: {schema}"
