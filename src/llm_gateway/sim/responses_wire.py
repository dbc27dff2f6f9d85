"""A completion in OpenAI Responses API shape: a ``response`` object or its event stream."""

from __future__ import annotations

from typing import Any

import orjson

from llm_gateway.sim.completion import Completion
from llm_gateway.sim.wire import Lazy, Stream
from llm_gateway.translate.responses_api.events import OutputStream
from llm_gateway.translate.responses_api.objects import (
    call_item,
    message_item,
    output_text,
    response_object,
    usage_object,
)


def responses_body(
    completion: Completion, model: str, created: int, request: dict[str, Any]
) -> bytes:
    call = completion.tool_call
    if call is None:
        item = message_item(
            _item_id("msg_", completion), [output_text(completion.text)], "completed"
        )
    else:
        item = call_item(
            _item_id("fc_", completion),
            call.id,
            call.name,
            call.arguments,
            "completed",
            custom=call.custom,
            namespace=call.namespace,
        )
    return orjson.dumps(_response(completion, model, created, request, [item], done=True))


def responses_stream(
    completion: Completion, model: str, created: int, request: dict[str, Any]
) -> Stream:
    """``response.created``, the item's opening events, a delta per token, then the closing
    events and ``response.completed`` (or ``response.incomplete``)."""
    events = OutputStream()
    head = events.created(_response(completion, model, created, request, [], done=False))
    call = completion.tool_call
    if call is None:
        head += events.open_message(_item_id("msg_", completion))
    else:
        head += events.open_call(
            _item_id("fc_", completion),
            call.id,
            call.name,
            custom=call.custom,
            namespace=call.namespace,
        )
    # Made one at a time as they are sent, like the other APIs' streams (see Lazy).
    pieces = completion.pieces
    tokens = Lazy(range(len(pieces)), events.deltas(pieces))
    tail = events.close()
    tail.append(
        events.finished(_response(completion, model, created, request, events.output, done=True))
    )
    return Stream(head=tuple(head), tokens=tokens, tail=tuple(tail))


def _response(
    completion: Completion,
    model: str,
    created: int,
    request: dict[str, Any],
    output: list[dict[str, Any]],
    *,
    done: bool,
) -> dict[str, Any]:
    incomplete = done and completion.stop_reason == "length"
    status = "incomplete" if incomplete else "completed" if done else "in_progress"
    usage = usage_object(completion.input_tokens, completion.output_tokens) if done else None
    return response_object(
        request,
        response_id="resp_" + completion.request_id,
        model=model,
        created_at=created,
        status=status,
        output=output,
        usage=usage,
        incomplete_reason="max_output_tokens" if incomplete else None,
    )


def _item_id(prefix: str, completion: Completion) -> str:
    return prefix + completion.request_id
