"""Reading and checking a client's request body.

Checks are deliberately shallow: enough that a malformed request gets a clear 400 naming
the field, instead of an upstream's confusing answer or a crash in translation. Fields we
do not check are passed through for the upstream to judge.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from llm_gateway.errors import GatewayError, validation_error
from llm_gateway.untrusted import MAX_JSON_DEPTH, clip, too_deep


class ClientGone(Exception):
    """The client hung up before we had its whole request."""


async def read_json_object(request: Request, limit: int) -> tuple[bytes, dict[str, Any]]:
    """The raw body and its parsed JSON object; ``validation`` errors for anything else."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type and not _is_json(media_type):
        raise validation_error(
            f"Content-Type must be application/json; got {clip(media_type)}", status=415
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientGone from None
    raw = b"".join(chunks)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise validation_error(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise validation_error("Request body must be a JSON object")
    if too_deep(raw, body):
        raise validation_error(f"Request body nests deeper than {MAX_JSON_DEPTH} levels")
    return raw, body


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _too_large(limit: int) -> GatewayError:
    return validation_error(f"Request body is larger than the limit of {limit} bytes", status=413)


def require_str(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise _field_error(field, "a non-empty string", value)
    return value


def require_positive_int(body: dict[str, Any], field: str) -> int:
    value = body.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _field_error(field, "a positive integer", value)
    return value


def require_messages(body: dict[str, Any], roles: Collection[str]) -> list[Any]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _field_error("messages", "a non-empty array", messages)
    for index, message in enumerate(messages):
        field = f"messages[{index}]"
        if not isinstance(message, dict):
            raise _field_error(field, "an object", message)
        role = message.get("role")
        if role not in roles:
            raise validation_error(
                f"'{field}.role' must be one of {', '.join(sorted(roles))}; got {role!r}",
                param=f"{field}.role",
            )
    return messages


def check_optional(body: dict[str, Any], field: str, kind: str) -> None:
    """Check an optional field's JSON type; ``kind`` is a key of :data:`_KINDS`."""
    value = body.get(field)
    if value is None:
        return
    accepts, expected = _KINDS[kind]
    if not accepts(value):
        raise _field_error(field, expected, value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_KINDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "bool": (lambda v: isinstance(v, bool), "a boolean"),
    "number": (_is_number, "a number"),
    "positive_int": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
        "a positive integer",
    ),
    "array": (lambda v: isinstance(v, list), "an array"),
    "object": (lambda v: isinstance(v, dict), "an object"),
    "string_or_array": (lambda v: isinstance(v, str | list), "a string or an array"),
    "array_of_strings": (_is_strings, "an array of strings"),
    "string_or_array_of_strings": (
        lambda v: isinstance(v, str) or _is_strings(v),
        "a string or an array of strings",
    ),
}
_JSON_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def _field_error(field: str, expected: str, value: object) -> GatewayError:
    if value is None:
        got = "nothing"
    elif value in ("", []):
        got = f"an empty {_JSON_TYPE_NAMES[type(value)]}"
    else:
        got = _JSON_TYPE_NAMES.get(type(value), type(value).__name__)
    return validation_error(f"'{field}' must be {expected}; got {got}", param=field)
