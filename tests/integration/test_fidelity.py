"""The fidelity contract: what each feature looks like on both sides of the gateway.

Every row of :data:`ROWS` is one feature. It runs in all four pairings (an OpenAI or an
Anthropic client, in front of an OpenAI or an Anthropic upstream), streaming and not,
through a real gateway process, with the official ``openai`` and ``anthropic`` SDKs as the
clients and :mod:`tests.fakes.recording_upstream` as the upstream, which answers what the
row scripts and records what it receives. The ``Responses:`` rows run the ``openai`` SDK's
Responses client (``/v1/responses``) against an OpenAI route (translated to Chat
Completions), an Anthropic route, a ``responses = "pass-through"`` route and, where a row
has something to say about it, the simulator (which records nothing; ``Row.sim`` gives its
directives).

How to write a row
------------------
A row names the feature and says four things; anything left out takes a plain default::

    Row(
        "anthropic-beta reaches an Anthropic upstream",
        # 1. What each kind of client adds to a plain request (the user says "Hi";
        #    Anthropic clients send max_tokens=64). ``body`` is merged over the request.
        anthropic=Call(headers={"anthropic-beta": "context-1m-2025-08-07"}),
        openai=Call(headers={"anthropic-beta": "context-1m-2025-08-07"}),
        # 2. What the upstream answers, given the pairing (default: a short text reply in
        #    the upstream's own shape). Build it with the fake's builders.
        reply=lambda p: text_reply(p.upstream, p.stream, "Hi", headers={"request-id": "r1"}),
        # 3. What the upstream must receive: a function of the pairing and the request
        #    the fake recorded (path, headers with lower-case names, parsed body).
        upstream_gets=beta_reaches_anthropic,
        # 4. What the client must get: a function of the pairing and the Outcome (status,
        #    headers, the body or the streamed events as the SDK parsed them, the
        #    SDK's error if it raised one, and the access log line).
        client_gets=request_id_returned,
        # Optional: fewer pairings (PASS_THROUGH, TRANSLATED) or streaming only, etc.
    )

The check functions sit above the table, named for what they assert, and branch on the
pairing (``p.client``, ``p.upstream``, ``p.stream``, ``p.passthrough``) where the sides
differ; a reply builds in ``p.fake``, the API the fake speaks. The ids read ``row name[client->upstream,stream|whole]``, so
``pytest -k 'anthropic-beta'`` runs one row.

One gateway and one fake serve the whole module; each case clears the fake first.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import anthropic
import openai
import orjson
import pytest

from tests.fakes.content_replies import anthropic_reply, openai_reply
from tests.fakes.content_replies import reply as content_reply
from tests.fakes.recording_upstream import (
    ANTHROPIC_PATH,
    OPENAI_PATH,
    RESPONSES_PATH,
    USAGE_IN,
    USAGE_OUT,
    Api,
    RecordingUpstream,
    Reply,
    anthropic_error_payload,
    anthropic_head_events,
    anthropic_sse,
    anthropic_text_delta,
    json_reply,
    openai_error_payload,
    openai_text_events,
    running_recording_upstream,
    sse,
    text_reply,
)
from tests.fakes.serving import Received
from tests.integration.conftest import API_KEY
from tests.processes import RunningServer, running

# --- the machinery ------------------------------------------------------------------------


Upstream = Literal["openai", "anthropic", "responses", "sim"]
"""An upstream's kind: the API the fake speaks (``responses`` on a ``responses =
"pass-through"`` route), or the built-in simulator, which records nothing."""
_FAKES: dict[Upstream, Api] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "responses": "responses",
}


class Pairing(NamedTuple):
    client: Api
    upstream: Upstream
    stream: bool

    @property
    def fake(self) -> Api:
        """The API the recording fake speaks here (rows script no reply for the simulator)."""
        return _FAKES[self.upstream]

    @property
    def passthrough(self) -> bool:
        return self.client == self.upstream

    def __str__(self) -> str:
        return f"{self.client}->{self.upstream},{'stream' if self.stream else 'whole'}"


ALL: tuple[tuple[Api, Api], ...] = (
    ("openai", "openai"),
    ("openai", "anthropic"),
    ("anthropic", "anthropic"),
    ("anthropic", "openai"),
)
PASS_THROUGH = tuple(pair for pair in ALL if pair[0] == pair[1])
TRANSLATED = tuple(pair for pair in ALL if pair[0] != pair[1])
RESPONSES: tuple[tuple[Api, Upstream], ...] = (
    ("responses", "openai"),  # translated to Chat Completions
    ("responses", "anthropic"),  # through Chat Completions to Messages
    ("responses", "responses"),  # responses = "pass-through"
    ("responses", "sim"),
)
RESPONSES_FAKES = RESPONSES[:3]
"""The Responses pairings whose upstream is the recording fake (not the simulator)."""


@dataclass(frozen=True)
class Call:
    """What a client adds to the plain request: body fields (merged over it) and headers."""

    body: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    """What the client got, as its SDK saw it."""

    status: int
    headers: Mapping[str, str]
    body: Any = None
    """The parsed JSON body of a whole (non-streaming) answer or of an error status."""
    raw: bytes = b""
    """The bytes of a whole answer or of an error status."""
    events: list[dict[str, Any]] = field(default_factory=list)
    """Each chunk (OpenAI) or event (Anthropic) of a stream, as the SDK parsed it."""
    error: Exception | None = None
    """What the SDK raised: an ``APIStatusError`` for an error status, an ``APIError`` mid-stream."""
    log: Callable[[], str] = lambda: ""
    """The gateway's access log line for this request (waits for it)."""
    said: Callable[[str], str] = lambda needle: ""
    """A line of the gateway's output that holds ``needle`` (waits for it)."""

    @property
    def text(self) -> str:
        """The assistant's text, whichever shape and whether streamed or not."""
        if self.events:
            return "".join(_event_text(event) for event in self.events)
        if isinstance(self.body, dict) and self.body.get("object") == "response":
            return "".join(
                part.get("text", "")
                for item in self.body["output"]
                if item["type"] == "message"
                for part in item["content"]
            )
        if isinstance(self.body, dict) and "choices" in self.body:
            return str(self.body["choices"][0]["message"]["content"] or "")
        if isinstance(self.body, dict) and "content" in self.body:
            return "".join(b.get("text", "") for b in self.body["content"])
        return ""


def _event_text(event: dict[str, Any]) -> str:
    if event.get("type") == "response.output_text.delta":
        return str(event["delta"])
    if event.get("object") == "chat.completion.chunk":
        choices = event.get("choices") or [{}]
        return str(choices[0].get("delta", {}).get("content") or "")
    delta = event.get("delta") or {}
    return str(delta.get("text") or "") if event.get("type") == "content_block_delta" else ""


Check = Callable[[Pairing, Any], None]


def nothing(p: Pairing, got: object) -> None:
    """No expectation beyond what every row checks (the request arrived; see ``test_row``)."""


@dataclass(frozen=True)
class Row:
    name: str
    openai: Call = Call()
    anthropic: Call = Call()
    responses: Call = Call()
    reply: Callable[[Pairing], Reply] | None = None
    upstream_gets: Check = nothing
    client_gets: Check = nothing
    pairings: tuple[tuple[Api, Upstream], ...] = ALL
    streams: tuple[bool, ...] = (False, True)
    reaches_upstream: Callable[[Pairing], bool] = lambda p: True
    """False where the gateway must answer itself, before any upstream request."""
    sim: str = ""
    """Directives for the simulator (``+tool``, ``+status=429``), which no ``reply`` scripts."""


# --- the checks rows use -------------------------------------------------------------------
# Grouped as the table is; each section's rows follow its checks in ``ROWS`` below.


def got_the_users_text(p: Pairing, got: Received) -> None:
    last = got.body["messages"][-1]
    content = last["content"]
    text = content if isinstance(content, str) else content[0]["text"]
    assert (last["role"], text) == ("user", "Hi")
    assert got.body.get("stream", False) is p.stream


def got_the_text_and_usage(p: Pairing, got: Outcome) -> None:
    assert (got.status, got.error) == (200, None)
    assert got.text == "Hello there"
    assert f"tokens={USAGE_IN}/{USAGE_OUT}" in got.log()


def kept_unknown_fields(p: Pairing, got: Received) -> None:
    assert got.body["x_vendor_option"] == {"depth": 2, "tags": ["a", "b"]}


# --- translation: what each feature becomes in the other API (docs/TRANSLATION.md) ---------


def openai_answer(got: Outcome) -> dict[str, Any]:
    """An OpenAI client's answer as one message, whole or rebuilt from the stream's deltas,
    with ``finish_reason`` and ``usage`` beside it."""
    assert got.error is None, got.error
    if not got.events:
        choice = got.body["choices"][0]
        return {
            **choice["message"],
            "finish_reason": choice["finish_reason"],
            "usage": got.body["usage"],
        }
    answer: dict[str, Any] = {"thinking_blocks": {}, "tool_calls": {}}
    for chunk in got.events:
        if chunk.get("usage"):
            answer["usage"] = chunk["usage"]
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            for name in ("content", "reasoning_content", "refusal"):
                if delta.get(name):
                    answer[name] = answer.get(name, "") + delta[name]
            for key in ("thinking_blocks", "tool_calls"):
                for entry in delta.get(key) or ():
                    _merge(answer[key].setdefault(entry["index"], {}), entry)
            if choice.get("finish_reason"):
                answer["finish_reason"] = choice["finish_reason"]
    answer["thinking_blocks"] = list(answer["thinking_blocks"].values())
    answer["tool_calls"] = list(answer["tool_calls"].values())
    return answer


def _merge(into: dict[str, Any], fragment: dict[str, Any]) -> None:
    for key, value in fragment.items():
        if isinstance(value, str) and key not in ("type", "id") and key in into:
            into[key] += value
        elif isinstance(value, dict):
            _merge(into.setdefault(key, {}), value)
        else:
            into[key] = value


def anthropic_answer(got: Outcome) -> dict[str, Any]:
    """An Anthropic client's answer as one message, whole or rebuilt from the stream's events;
    a streamed tool call keeps its raw ``partial_json``."""
    assert got.error is None, got.error
    if not got.events:
        return dict(got.body)
    message: dict[str, Any] = {"content": [], "usage": {}}
    for event in got.events:
        kind = event["type"]
        if kind == "message_start":
            message["usage"].update(event["message"]["usage"])
        elif kind == "content_block_start":
            message["content"].append(dict(event["content_block"]))
        elif kind == "content_block_delta":
            block, delta = message["content"][event["index"]], event["delta"]
            field_name = {
                "text_delta": "text",
                "thinking_delta": "thinking",
                "signature_delta": "signature",
                "input_json_delta": "partial_json",
            }[delta["type"]]
            block[field_name] = block.get(field_name, "") + delta[field_name]
        elif kind == "message_delta":
            message["stop_reason"] = event["delta"]["stop_reason"]
            message["usage"].update(event["usage"])
    return message


def sent_messages(got: Received) -> list[dict[str, Any]]:
    """The conversation the upstream got, system prompt left out."""
    return [m for m in got.body["messages"] if m["role"] not in ("system", "developer")]


# Thinking and reasoning

THOUGHT = "Paris is in France."
SIGNATURE = "c2lnbmF0dXJl"


def thinking_reply(p: Pairing) -> Reply:
    return content_reply(
        p.fake,
        p.stream,
        anthropic=[
            {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE},
            {"type": "text", "text": "Paris."},
        ],
        openai={"reasoning_content": THOUGHT, "content": "Paris."},
    )


def effort_became_a_budget(p: Pairing, got: Received) -> None:
    if p.upstream == "openai":
        # The fake OpenAI route is a reasoning model: 1,024 tokens of thinking is "low".
        assert got.body["reasoning_effort"] == "low"
    else:
        budget = 1024 if p.client == "anthropic" else 4000
        assert got.body["thinking"] == {"type": "enabled", "budget_tokens": budget}


def thinking_became_reasoning(p: Pairing, got: Outcome) -> None:
    if p.client == "openai":
        answer = openai_answer(got)
        assert (answer["content"], answer["reasoning_content"]) == ("Paris.", THOUGHT)
        if p.upstream == "anthropic":
            (block,) = answer["thinking_blocks"]
            assert (block["thinking"], block["signature"]) == (THOUGHT, SIGNATURE)
            assert answer["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3
        return
    thinking, text = anthropic_answer(got)["content"]
    assert (thinking["type"], thinking["thinking"], text["text"]) == ("thinking", THOUGHT, "Paris.")
    # Only Anthropic signs; reasoning from an OpenAI upstream comes unsigned.
    assert thinking.get("signature", "") == (SIGNATURE if p.upstream == "anthropic" else "")


WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}},
}


def no_thinking_with_a_forced_tool(p: Pairing, got: Received) -> None:
    # Anthropic allows thinking only with tool_choice auto or none.
    assert "thinking" not in got.body
    assert got.body["tool_choice"] == {"type": "any"}


def dropped_thinking_is_logged(p: Pairing, got: Outcome) -> None:
    assert (got.status, got.error) == (200, None)
    # Once per route, whichever client asked first.
    assert got.said("route an-*: sending no thinking with a forced tool_choice")


def no_thinking_without_room_for_it(p: Pairing, got: Received) -> None:
    # Anthropic wants 1024 <= budget_tokens < max_tokens; the client's limit is kept.
    assert "thinking" not in got.body
    assert got.body["max_tokens"] == 1000


SIGNED_HISTORY_OPENAI = [
    {"role": "user", "content": "Capital of France?"},
    {
        "role": "assistant",
        "content": "Paris.",
        "reasoning_content": THOUGHT,
        "thinking_blocks": [{"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE}],
    },
    {"role": "user", "content": "Hi"},
]
SIGNED_HISTORY_ANTHROPIC = [
    {"role": "user", "content": "Capital of France?"},
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE},
            {"type": "text", "text": "Paris."},
        ],
    },
    {"role": "user", "content": "Hi"},
]


def signed_thinking_went_back_only_to_anthropic(p: Pairing, got: Received) -> None:
    assistant = sent_messages(got)[1]
    if p.upstream == "anthropic":
        assert assistant["content"][0] == {
            "type": "thinking",
            "thinking": THOUGHT,
            "signature": SIGNATURE,
        }
    elif p.client == "anthropic":
        # Claude's signed thinking means nothing to an OpenAI upstream.
        assert assistant == {"role": "assistant", "content": "Paris."}
    else:
        assert assistant["thinking_blocks"][0]["signature"] == SIGNATURE


# Caching

CACHED = {"type": "ephemeral"}
CACHED_SYSTEM_OPENAI = [
    {"role": "system", "content": [{"type": "text", "text": "Rules.", "cache_control": CACHED}]},
    {"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": CACHED}]},
]


def cache_reply(p: Pairing) -> Reply:
    if p.upstream == "anthropic":
        cache_usage = {
            "input_tokens": 11,
            "cache_creation_input_tokens": 5,
            "cache_read_input_tokens": 100,
            "output_tokens": 3,
        }
        blocks = [{"type": "text", "text": "Hello there"}]
        return anthropic_reply(p.stream, blocks, usage=cache_usage)
    usage: dict[str, Any] = {
        "prompt_tokens": 116,
        "completion_tokens": 3,
        "total_tokens": 119,
        "prompt_tokens_details": {"cached_tokens": 100},
    }
    return openai_reply(p.stream, {"content": "Hello there"}, usage=usage)


def cache_control_kept_for_anthropic(p: Pairing, got: Received) -> None:
    if p.upstream == "anthropic":
        assert got.body["system"] == [{"type": "text", "text": "Rules.", "cache_control": CACHED}]
        assert got.body["messages"][-1]["content"][-1]["cache_control"] == CACHED
    elif p.client == "anthropic":
        # An OpenAI upstream caches by itself.
        assert b"cache_control" not in orjson.dumps(got.body)


def cache_reads_reported_apart(p: Pairing, got: Outcome) -> None:
    if p.client == "openai":
        usage = openai_answer(got)["usage"]
        assert (usage["prompt_tokens"], usage["prompt_tokens_details"]["cached_tokens"]) == (
            116,
            100,
        )
        return
    usage = anthropic_answer(got)["usage"]
    assert usage["cache_read_input_tokens"] == 100
    # Anthropic's input_tokens leave the cache out: 11 + 5 written, or 116 - 100.
    assert usage["input_tokens"] == (11 if p.upstream == "anthropic" else 16)


# Structured output

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
JSON_SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "city", "schema": SCHEMA, "strict": True},
}


def schema_reached_the_upstream(p: Pairing, got: Received) -> None:
    if p.upstream == "anthropic":
        assert got.body["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    else:
        assert got.body["response_format"]["json_schema"]["schema"] == SCHEMA
        assert got.body["response_format"]["type"] == "json_schema"


def json_object_reply(p: Pairing) -> Reply:
    # After a prefilled "{", Claude writes the rest of the object.
    text = '"city": "Paris"}' if p.upstream == "anthropic" else '{"city": "Paris"}'
    return content_reply(
        p.fake, p.stream, anthropic=[{"type": "text", "text": text}], openai={"content": text}
    )


def json_object_instructed_and_prefilled(p: Pairing, got: Received) -> None:
    if p.upstream == "openai":
        assert got.body["response_format"] == {"type": "json_object"}
        return
    assert "JSON object" in got.body["system"]
    assert got.body["messages"][-1] == {"role": "assistant", "content": "{"}


def whole_json_object(p: Pairing, got: Outcome) -> None:
    assert json.loads(openai_answer(got)["content"]) == {"city": "Paris"}


# Parameters


def refused_or_passed(p: Pairing, got: Outcome) -> None:
    if p.passthrough:
        assert (got.status, got.error) == (200, None)
        return
    name = "seed" if p.client == "openai" else "service_tier"
    assert got.status == 400
    body = got.body["error"]
    assert name in body["message"]
    if p.client == "openai":
        assert body["param"] == "seed"


def untranslatable_reached_only_its_own_api(p: Pairing, got: Received) -> None:
    name = "seed" if p.client == "openai" else "service_tier"
    assert got.body[name] == (7 if p.client == "openai" else "standard_only")


def sampling_as_given(p: Pairing, got: Received) -> None:
    temperature = 1.7 if p.client == "openai" else 0.7
    assert (got.body["temperature"], got.body["top_k"]) == (temperature, 5)


def token_limit_named_for_the_upstream(p: Pairing, got: Received) -> None:
    if p.client == "openai":
        # No limit from the client: Anthropic needs one, OpenAI does not.
        assert got.body.get("max_tokens") == (64_000 if p.upstream == "anthropic" else None)
    elif p.upstream == "openai":
        # The fake OpenAI route is a reasoning model.
        assert (got.body["max_completion_tokens"], "max_tokens" in got.body) == (64, False)
    else:
        assert got.body["max_tokens"] == 64


# Refusals

REFUSAL = "I can't help with that."


def refusal_reply(p: Pairing) -> Reply:
    return content_reply(
        p.fake,
        p.stream,
        anthropic=[{"type": "text", "text": REFUSAL}],
        openai={"content": None, "refusal": REFUSAL},
        stop_reason="refusal",
    )


def refusal_recognisable(p: Pairing, got: Outcome) -> None:
    if p.client == "anthropic":
        answer = anthropic_answer(got)
        assert (answer["stop_reason"], answer["content"][0]["text"]) == ("refusal", REFUSAL)
        return
    answer = openai_answer(got)
    if p.upstream == "openai":
        assert (answer["refusal"], answer["finish_reason"]) == (REFUSAL, "stop")
    else:
        assert (answer["content"], answer["finish_reason"]) == (REFUSAL, "content_filter")
        if not p.stream:
            assert answer["refusal"] == REFUSAL


# Empty turns, the function role, documents


def empty_turns_kept(p: Pairing, got: Received) -> None:
    turns = sent_messages(got)
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"] in ("", [])


def function_role_as_tool_result(p: Pairing, got: Received) -> None:
    if p.upstream == "openai":
        assert got.body["messages"][2]["role"] == "function"
        return
    use, result = got.body["messages"][1]["content"][0], got.body["messages"][2]["content"][0]
    assert (use["type"], use["input"]) == ("tool_use", {"city": "Paris"})
    assert (result["type"], result["tool_use_id"], result["content"]) == (
        "tool_result",
        use["id"],
        "18C",
    )


PDF = "JVBERi0xLjQK"
FILE_PART = {
    "type": "file",
    "file": {"filename": "report.pdf", "file_data": f"data:application/pdf;base64,{PDF}"},
}
DOCUMENT = {
    "type": "document",
    "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
    "title": "report.pdf",
}


def document_in_the_upstreams_shape(p: Pairing, got: Received) -> None:
    part = got.body["messages"][-1]["content"][0]
    assert part == (DOCUMENT if p.upstream == "anthropic" else FILE_PART)


# Tool arguments cut by the token limit

CUT_ARGUMENTS = '{"path": "a.py", "content": "def f('


def cut_tool_call_reply(p: Pairing) -> Reply:
    use = {"type": "tool_use", "id": "call_1", "name": "write", "input": {"path": "a.py"}}
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "write", "arguments": CUT_ARGUMENTS},
    }
    return content_reply(
        p.fake,
        p.stream,
        anthropic=[{**use, "partial_json": CUT_ARGUMENTS}],
        openai={"content": None, "tool_calls": [call]},
        stop_reason="max_tokens",
        finish_reason="length",
    )


def cut_arguments_returned_as_they_are(p: Pairing, got: Outcome) -> None:
    if p.client == "openai":
        answer = openai_answer(got)
        assert answer["finish_reason"] == "length"
        arguments = answer["tool_calls"][0]["function"]["arguments"]
        if p.upstream == "openai" or p.stream:
            assert arguments == CUT_ARGUMENTS
        else:
            assert json.loads(arguments) == {"path": "a.py"}
        return
    answer = anthropic_answer(got)
    assert answer["stop_reason"] == "max_tokens"
    (use,) = answer["content"]
    if p.stream:
        assert use["partial_json"] == CUT_ARGUMENTS
    elif p.upstream == "openai":
        # Closed as far as it went.
        assert use["input"] == {"path": "a.py", "content": "def f("}
    else:
        assert use["input"] == {"path": "a.py"}


# --- headers ---------------------------------------------------------------------------

BETA = "context-1m-2025-08-07"
BOTH_SEND = Call(headers={"anthropic-beta": BETA, "openai-beta": "assistants=v2"})


def api_headers_go_to_their_own_api(p: Pairing, got: Received) -> None:
    if p.upstream == "anthropic":
        assert got.headers["anthropic-beta"] == BETA
        assert "openai-beta" not in got.headers
    else:
        assert got.headers["openai-beta"] == "assistants=v2"
        assert "anthropic-beta" not in got.headers


def clients_anthropic_version_is_kept(p: Pairing, got: Received) -> None:
    expected = {
        ("anthropic", "anthropic"): "2099-01-01",
        ("openai", "anthropic"): "2023-06-01",  # the gateway's default when none was sent
    }.get((p.client, p.upstream))
    assert got.headers.get("anthropic-version") == expected


OPENAI_ACCOUNT = {"openai-organization": "org-fid", "openai-project": "proj-fid"}


def openai_account_reaches_openai(p: Pairing, got: Received) -> None:
    for name, value in OPENAI_ACCOUNT.items():
        assert got.headers.get(name) == (value if p.upstream == "openai" else None)


def custom_headers_pass_and_sdk_headers_stay_in_their_api(p: Pairing, got: Received) -> None:
    assert got.headers["x-trace-id"] == "trace-1"
    # The SDK describes itself in x-stainless-*: only an upstream of its own API gets it.
    assert ("x-stainless-lang" in got.headers) is p.passthrough


def only_the_routes_key_reaches_the_upstream(p: Pairing, got: Received) -> None:
    if p.upstream == "openai":
        assert got.headers["authorization"] == "Bearer sk-route-openai"
        assert "x-api-key" not in got.headers
    else:
        assert got.headers["x-api-key"] == "sk-route-anthropic"
        assert "authorization" not in got.headers
    assert API_KEY not in " ".join(got.headers.values())
    for name in ("x-forwarded-for", "x-real-ip", "cookie", "x-http-method-override"):
        assert name not in got.headers
    assert got.headers["host"] != "client.example"


HOP_HEADERS = {
    "x-forwarded-for": "10.0.0.9",
    "x-real-ip": "10.0.0.9",
    "cookie": "session=1",
    "x-http-method-override": "DELETE",
    "host": "client.example",
}


USEFUL = {
    "request-id": "req_fid1",
    "x-request-id": "xreq_fid1",
    "x-should-retry": "false",
    "anthropic-ratelimit-requests-remaining": "41",
    "x-ratelimit-remaining-tokens": "9000",
}
NOT_RETURNED = {"set-cookie": "session=1", "openai-processing-ms": "12", "server": "fake/1"}


def text_with_headers(p: Pairing) -> Reply:
    return text_reply(p.fake, p.stream, "Hello there", headers={**USEFUL, **NOT_RETURNED})


def useful_headers_come_back(p: Pairing, got: Outcome) -> None:
    assert got.status == 200
    for name, value in USEFUL.items():
        assert got.headers.get(name) == value, name
    assert "set-cookie" not in got.headers
    assert "openai-processing-ms" not in got.headers
    assert got.headers.get("server") != "fake/1"


# --- errors ----------------------------------------------------------------------------

OPENAI_400 = openai_error_payload(
    "This model's maximum context length is 8192 tokens.",
    "invalid_request_error",
    param="messages",
    code="context_length_exceeded",
)
ANTHROPIC_400 = anthropic_error_payload("invalid_request_error", "prompt is too long")
RETRY_HEADERS = {"retry-after": "17", "x-should-retry": "true", "request-id": "req_err1"}


def error_of_each_api(p: Pairing) -> Reply:
    payload = ANTHROPIC_400 if p.upstream == "anthropic" else OPENAI_400
    return json_reply(payload, 400, RETRY_HEADERS)


def error_body_untouched_or_translated(p: Pairing, got: Outcome) -> None:
    assert got.status == 400
    for name, value in RETRY_HEADERS.items():
        assert got.headers.get(name) == value, name
    if p.passthrough:
        assert got.raw == orjson.dumps(OPENAI_400 if p.client == "openai" else ANTHROPIC_400)
    elif p.client == "openai":
        assert got.body == {
            "error": {
                "message": "prompt is too long",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_request_error",
            }
        }
    else:
        assert got.body == {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "This model's maximum context length is 8192 tokens.",
            },
        }
    # The gateway's classification is in its log, not in the body.
    assert "error=upstream" in got.log()


def overloaded(p: Pairing) -> Reply:
    if p.upstream == "openai":
        payload = openai_error_payload("Rate limit reached", "tokens", code="rate_limit_exceeded")
        headers = {"retry-after": "2", "retry-after-ms": "1500", "x-ratelimit-reset-tokens": "1.5s"}
        return json_reply(payload, 429, headers)
    headers = {"retry-after": "2", "anthropic-ratelimit-tokens-reset": "2026-12-07T06:00:02Z"}
    return json_reply(anthropic_error_payload("overloaded_error", "Overloaded"), 529, headers)


def overload_keeps_its_status_and_kind(p: Pairing, got: Outcome) -> None:
    # Retry hints reach every client; rate-limit families keep their own API's names.
    assert got.headers.get("retry-after") == "2"
    if p.upstream == "openai":
        assert (got.status, got.headers.get("retry-after-ms")) == (429, "1500")
        assert got.headers.get("x-ratelimit-reset-tokens") == "1.5s"
    else:
        assert got.status == 529
        assert got.headers.get("anthropic-ratelimit-tokens-reset") == "2026-12-07T06:00:02Z"
    assert (
        error_kind(p, got.body)
        == {
            ("openai", "openai"): "tokens",
            ("anthropic", "anthropic"): "overloaded_error",
            ("anthropic", "openai"): "rate_limit_error",
            ("openai", "anthropic"): "server_error",
        }[(p.client, p.upstream)]
    )


def error_kind(p: Pairing, payload: Any) -> str:
    """The error's type in the client's API (OpenAI's SDK hands over only the inner object)."""
    if p.client == "anthropic":
        return str(payload["error"]["type"])
    inner = payload.get("error", payload)
    return str(inner["type"])


def fails_mid_stream(p: Pairing) -> Reply:
    if p.upstream == "openai":
        error = openai_error_payload("Rate limit reached", "tokens", code="rate_limit_exceeded")
        events = [*openai_text_events("Hello there")[:2], sse(error)]
    else:
        error = anthropic_error_payload("overloaded_error", "Overloaded", request_id=None)
        events = [*anthropic_head_events(), anthropic_text_delta("Hel"), anthropic_sse(error)]
    return Reply(events=events)


def mid_stream_error_keeps_its_type(p: Pairing, got: Outcome) -> None:
    assert got.status == 200
    error = got.error
    assert isinstance(error, openai.APIError | anthropic.APIError), got.error
    assert (
        error_kind(p, error.body)
        == {
            ("openai", "openai"): "tokens",
            ("anthropic", "anthropic"): "overloaded_error",
            ("anthropic", "openai"): "rate_limit_error",
            ("openai", "anthropic"): "server_error",
        }[(p.client, p.upstream)]
    )
    if p.client == "openai" and p.upstream == "anthropic":
        assert error.body == {
            "message": "Overloaded",
            "type": "server_error",
            "param": None,
            "code": "overloaded_error",
        }
    assert "error=upstream" in got.log()


def error_with_status_200(p: Pairing) -> Reply:
    payload = OPENAI_400 if p.upstream == "openai" else ANTHROPIC_400
    return json_reply(payload, 200, {"request-id": "req_200"})


def is_not_a_success(p: Pairing, got: Outcome) -> None:
    assert got.status == 502
    assert got.headers.get("request-id") == "req_200"
    if p.passthrough:
        assert got.raw == orjson.dumps(OPENAI_400 if p.client == "openai" else ANTHROPIC_400)
    assert "error=upstream" in got.log()


ROUTE_KEYS: dict[Upstream, str] = {
    "openai": "sk-route-openai",
    "anthropic": "sk-route-anthropic",
    "responses": "sk-route-responses",
}


def quotes_the_routes_key(p: Pairing) -> Reply:
    """An error inside an answer that quotes the key the gateway sent: mid-stream, or in a
    200's body."""
    message = f"Incorrect API key provided: {ROUTE_KEYS[p.upstream]}"
    if p.upstream == "openai":
        error = openai_error_payload(message, "invalid_request_error", code="invalid_api_key")
        if not p.stream:
            return json_reply(error)
        return Reply(events=[*openai_text_events("Hello there")[:2], sse(error)])
    error = anthropic_error_payload("authentication_error", message)
    if not p.stream:
        return json_reply(error)
    return Reply(events=[*anthropic_head_events(), anthropic_sse(error)])


def the_key_is_redacted(p: Pairing, got: Outcome) -> None:
    key = ROUTE_KEYS[p.upstream]
    if p.stream:
        assert isinstance(got.error, openai.APIError | anthropic.APIError), got.error
        echoed = json.dumps(got.error.body)
    else:
        assert got.status == 502
        echoed = got.raw.decode()
    assert "Incorrect API key provided: [redacted]" in echoed
    assert key not in echoed
    assert key not in got.log()


# --- the Responses API (docs/RESPONSES.md) ---------------------------------------------------
# A Responses client reaches an OpenAI route through Chat Completions, an Anthropic route
# through Chat Completions to Messages, a pass-through route untouched, and the simulator
# natively. The checks read the final ``response`` object, whole or from the stream's last
# event.


def final_response(got: Outcome) -> dict[str, Any]:
    """The whole ``response`` a Responses client got, or its stream ended with."""
    assert got.error is None, got.error
    if not got.events:
        body: dict[str, Any] = got.body
        return body
    last = got.events[-1]
    assert last["type"] in ("response.completed", "response.incomplete"), last["type"]
    assert got.events[0]["type"] == "response.created"
    response: dict[str, Any] = last["response"]
    return response


def output_of(got: Outcome, kind: str) -> list[dict[str, Any]]:
    return [item for item in final_response(got)["output"] if item["type"] == kind]


def responses_request_arrived(p: Pairing, got: Received) -> None:
    if p.upstream == "responses":
        assert (got.body["input"], got.body.get("stream", False)) == ("Hi", p.stream)
    else:
        got_the_users_text(p, got)


def responses_text_and_usage(p: Pairing, got: Outcome) -> None:
    response = final_response(got)
    assert (got.status, response["status"]) == (200, "completed")
    assert response["id"].startswith("resp_")
    usage = response["usage"]
    if p.upstream == "sim":
        assert got.text and usage["output_tokens"] > 0
        assert "tokens=" in got.log()
        return
    assert got.text == "Hello there"
    assert (usage["input_tokens"], usage["output_tokens"]) == (USAGE_IN, USAGE_OUT)
    assert f"tokens={USAGE_IN}/{USAGE_OUT}" in got.log()


# A function call round trip

CMD_SCHEMA = {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}
EXEC_TOOL = {"type": "function", "name": "exec_command", "parameters": CMD_SCHEMA}
TOOL_LOOP = [
    {"role": "user", "content": "List the files"},
    {
        "type": "function_call",
        "call_id": "call_0",
        "name": "exec_command",
        "arguments": '{"cmd":"ls"}',
    },
    {"type": "function_call_output", "call_id": "call_0", "output": "a.txt"},
]
NEXT_CALL = '{"cmd":"cat a.txt"}'


def next_call_reply(p: Pairing) -> Reply:
    return content_reply(
        p.fake,
        p.stream,
        anthropic=[
            {
                "type": "tool_use",
                "id": "call_1",
                "name": "exec_command",
                "input": {"cmd": "cat a.txt"},
            }
        ],
        openai={
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "exec_command", "arguments": NEXT_CALL},
                }
            ],
        },
        responses=[
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "exec_command",
                "arguments": NEXT_CALL,
                "status": "completed",
            }
        ],
        stop_reason="tool_use",
        finish_reason="tool_calls",
    )


def tool_loop_in_the_upstreams_shape(p: Pairing, got: Received) -> None:
    if p.upstream == "responses":
        assert (got.body["input"], got.body["tools"]) == (TOOL_LOOP, [EXEC_TOOL])
        return
    turns = sent_messages(got)
    if p.upstream == "openai":
        (call_0,) = turns[1]["tool_calls"]
        assert (call_0["id"], call_0["function"]["arguments"]) == ("call_0", '{"cmd":"ls"}')
        assert turns[2] == {"role": "tool", "tool_call_id": "call_0", "content": "a.txt"}
        assert got.body["tool_choice"] == "required"
        return
    (use,) = turns[1]["content"]
    (result,) = turns[2]["content"]
    assert (use["type"], use["id"], use["input"]) == ("tool_use", "call_0", {"cmd": "ls"})
    assert (result["tool_use_id"], result["content"]) == ("call_0", "a.txt")
    assert got.body["tool_choice"] == {"type": "any"}


def the_next_call_comes_back(p: Pairing, got: Outcome) -> None:
    (call,) = output_of(got, "function_call")
    assert call["name"] == "exec_command"
    if p.upstream == "sim":
        # The simulator honours the forced tool_choice with arguments valid for its schema.
        assert isinstance(json.loads(call["arguments"])["cmd"], str)
        return
    assert (call["call_id"], json.loads(call["arguments"])) == ("call_1", {"cmd": "cat a.txt"})


# Images

PNG = "iVBORw0KGgo="
IMAGES_INPUT = [
    {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "Look"},
            {"type": "input_image", "image_url": "https://example.com/a.png"},
            {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
        ],
    }
]


def images_in_the_upstreams_shape(p: Pairing, got: Received) -> None:
    if p.upstream == "responses":
        assert got.body["input"] == IMAGES_INPUT
        return
    _, by_url, inline = got.body["messages"][-1]["content"]
    if p.upstream == "openai":
        assert by_url["image_url"]["url"] == "https://example.com/a.png"
        assert inline["image_url"]["url"] == f"data:image/png;base64,{PNG}"
        return
    assert by_url["source"] == {"type": "url", "url": "https://example.com/a.png"}
    assert inline["source"] == {"type": "base64", "media_type": "image/png", "data": PNG}


def answered(p: Pairing, got: Outcome) -> None:
    assert (got.status, final_response(got)["status"]) == (200, "completed")


# Reasoning

REASONING_ITEM = {
    "type": "reasoning",
    "summary": [],
    "content": [{"type": "reasoning_text", "text": THOUGHT}],
}
PARIS_MESSAGE = {
    "type": "message",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Paris.", "annotations": []}],
}


def responses_thinking_reply(p: Pairing) -> Reply:
    return content_reply(
        p.fake,
        p.stream,
        anthropic=[
            {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE},
            {"type": "text", "text": "Paris."},
        ],
        openai={"reasoning_content": THOUGHT, "content": "Paris."},
        responses=[REASONING_ITEM, PARIS_MESSAGE],
    )


def effort_reached_the_upstream(p: Pairing, got: Received) -> None:
    if p.upstream == "responses":
        assert got.body["reasoning"] == {"effort": "low"}
    elif p.upstream == "openai":
        assert got.body["reasoning_effort"] == "low"
    else:
        assert got.body["thinking"] == {"type": "enabled", "budget_tokens": 4000}


def reasoning_item_before_the_message(p: Pairing, got: Outcome) -> None:
    reasoning, message = final_response(got)["output"]
    assert (reasoning["type"], reasoning["content"][0]["text"]) == ("reasoning", THOUGHT)
    assert (message["type"], message["content"][0]["text"]) == ("message", "Paris.")
    if p.upstream == "anthropic":
        # Anthropic counts thinking in output_tokens; the gateway estimates its share.
        assert final_response(got)["usage"]["output_tokens_details"]["reasoning_tokens"] == 3


# Structured output

TEXT_FORMAT = {"format": {"type": "json_schema", "name": "city", "schema": SCHEMA, "strict": True}}


def text_format_in_the_upstreams_shape(p: Pairing, got: Received) -> None:
    if p.upstream == "responses":
        assert got.body["text"] == TEXT_FORMAT
    else:
        schema_reached_the_upstream(p, got)


# Parameters with no counterpart


def verbosity_mapped_or_refused(p: Pairing, got: Outcome) -> None:
    if p.upstream == "anthropic":
        assert got.status == 400
        error = got.body["error"]
        assert (error["param"], error["type"]) == ("text.verbosity", "invalid_request_error")
        assert "drop_unsupported" in error["message"]
    else:
        answered(p, got)


def verbosity_reached_the_upstream(p: Pairing, got: Received) -> None:
    if p.upstream == "responses":
        assert got.body["text"] == {"verbosity": "low"}
    else:
        assert got.body["verbosity"] == "low"


def top_logprobs_refused_unless_passed_through(p: Pairing, got: Outcome) -> None:
    if p.passthrough:
        answered(p, got)
        return
    assert got.status == 400
    assert got.body["error"]["param"] == "top_logprobs"


def top_logprobs_reached_the_pass_through(p: Pairing, got: Received) -> None:
    assert got.body["top_logprobs"] == 3


# Headers


def responses_headers_go_to_their_own_api(p: Pairing, got: Received) -> None:
    if p.upstream == "anthropic":
        assert got.headers["anthropic-beta"] == BETA
        assert "openai-beta" not in got.headers
        assert got.headers["x-api-key"] == "sk-route-anthropic"
    else:
        assert got.headers["openai-beta"] == "responses=v1"
        assert "anthropic-beta" not in got.headers
        assert got.headers["authorization"] == f"Bearer {ROUTE_KEYS[p.upstream]}"
    assert got.headers["x-trace-id"] == "trace-1"
    # One SDK, one company: the openai SDK's description of itself reaches OpenAI upstreams.
    assert ("x-stainless-lang" in got.headers) is (p.upstream != "anthropic")
    assert API_KEY not in " ".join(got.headers.values())


# Errors


def responses_error_untouched_or_translated(p: Pairing, got: Outcome) -> None:
    assert got.status == 400
    for name, value in RETRY_HEADERS.items():
        assert got.headers.get(name) == value, name
    if p.upstream == "anthropic":
        assert got.body == {
            "error": {
                "message": "prompt is too long",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_request_error",
            }
        }
    else:
        # A Responses error is an OpenAI error, so an OpenAI upstream's arrives as it was.
        assert got.raw == orjson.dumps(OPENAI_400)
    assert "error=upstream" in got.log()


def rate_limited(p: Pairing) -> Reply:
    if p.upstream == "anthropic":
        payload = anthropic_error_payload("rate_limit_error", "Rate limited")
    else:
        payload = openai_error_payload("Rate limit reached", "tokens", code="rate_limit_exceeded")
    return json_reply(payload, 429, {"retry-after": "17"})


def rate_limit_and_retry_after_reach_the_client(p: Pairing, got: Outcome) -> None:
    assert got.status == 429
    error = got.body["error"]
    if p.upstream == "sim":
        assert error["message"]
        return
    assert got.headers.get("retry-after") == "17"
    assert error["type"] == ("rate_limit_error" if p.upstream == "anthropic" else "tokens")


def responses_fails_mid_stream(p: Pairing) -> Reply:
    if p.upstream != "responses":
        return fails_mid_stream(p)
    failed = {
        "id": "resp_fake1",
        "object": "response",
        "status": "failed",
        "output": [],
        "error": {"code": "rate_limit_exceeded", "message": "Rate limit reached"},
    }
    head = {**failed, "status": "in_progress", "error": None}
    return Reply(
        events=[
            sse(
                {"type": "response.created", "sequence_number": 0, "response": head},
                "response.created",
            ),
            sse(
                {"type": "response.failed", "sequence_number": 1, "response": failed},
                "response.failed",
            ),
        ]
    )


def response_failed_keeps_the_upstreams_error(p: Pairing, got: Outcome) -> None:
    assert (got.status, got.error) == (200, None)
    last = got.events[-1]
    assert last["type"] == "response.failed"
    assert [event["sequence_number"] for event in got.events] == list(range(len(got.events)))
    error = last["response"]["error"]
    assert (
        error
        == {
            "openai": {"code": "rate_limit_exceeded", "message": "Rate limit reached"},
            "responses": {"code": "rate_limit_exceeded", "message": "Rate limit reached"},
            "anthropic": {"code": "overloaded_error", "message": "Overloaded"},
        }[p.upstream]
    )
    assert "error=upstream" in got.log()


def quotes_the_routes_key_in_responses(p: Pairing) -> Reply:
    if p.upstream != "responses":
        return quotes_the_routes_key(p)
    message = f"Incorrect API key provided: {ROUTE_KEYS['responses']}"
    error = openai_error_payload(message, "invalid_request_error", code="invalid_api_key")
    if not p.stream:
        return json_reply(error)
    failed = {
        "id": "resp_fake1",
        "object": "response",
        "status": "failed",
        "output": [],
        "error": {"code": "invalid_api_key", "message": message},
    }
    return Reply(
        events=[
            sse(
                {"type": "response.failed", "sequence_number": 0, "response": failed},
                "response.failed",
            )
        ]
    )


def the_key_is_redacted_for_responses(p: Pairing, got: Outcome) -> None:
    key = ROUTE_KEYS[p.upstream]
    echoed = json.dumps(got.events) if p.stream else got.raw.decode()
    if not p.stream:
        assert got.status == 502
    assert "Incorrect API key provided: [redacted]" in echoed
    assert key not in echoed
    assert key not in got.log()


# --- the contract --------------------------------------------------------------------------

BASICS: list[Row] = [
    Row(
        "plain text",
        upstream_gets=got_the_users_text,
        client_gets=got_the_text_and_usage,
    ),
    Row(
        "unknown body fields pass through",
        openai=Call(body={"x_vendor_option": {"depth": 2, "tags": ["a", "b"]}}),
        anthropic=Call(body={"x_vendor_option": {"depth": 2, "tags": ["a", "b"]}}),
        upstream_gets=kept_unknown_fields,
        pairings=PASS_THROUGH,
    ),
]

TRANSLATION: list[Row] = [  # docs/TRANSLATION.md
    Row(
        "thinking and reasoning",
        openai=Call(body={"reasoning_effort": "low", "stream_options": {"include_usage": True}}),
        anthropic=Call(body={"thinking": {"type": "enabled", "budget_tokens": 1024}}),
        reply=thinking_reply,
        upstream_gets=effort_became_a_budget,
        client_gets=thinking_became_reasoning,
    ),
    Row(
        "reasoning with a forced tool goes without thinking",
        openai=Call(
            body={"reasoning_effort": "low", "tools": [WEATHER_TOOL], "tool_choice": "required"}
        ),
        upstream_gets=no_thinking_with_a_forced_tool,
        client_gets=dropped_thinking_is_logged,
        pairings=(("openai", "anthropic"),),
    ),
    Row(
        "reasoning with no room for the smallest budget goes without thinking",
        openai=Call(body={"reasoning_effort": "low", "max_completion_tokens": 1000}),
        upstream_gets=no_thinking_without_room_for_it,
        pairings=(("openai", "anthropic"),),
    ),
    Row(
        "signed thinking goes back to Anthropic",
        openai=Call(body={"messages": SIGNED_HISTORY_OPENAI}),
        anthropic=Call(body={"messages": SIGNED_HISTORY_ANTHROPIC}),
        upstream_gets=signed_thinking_went_back_only_to_anthropic,
    ),
    Row(
        "prompt caching",
        openai=Call(
            body={"messages": CACHED_SYSTEM_OPENAI, "stream_options": {"include_usage": True}}
        ),
        anthropic=Call(
            body={
                "system": [{"type": "text", "text": "Rules.", "cache_control": CACHED}],
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "text", "text": "Hi", "cache_control": CACHED}],
                    }
                ],
            }
        ),
        reply=cache_reply,
        upstream_gets=cache_control_kept_for_anthropic,
        client_gets=cache_reads_reported_apart,
    ),
    Row(
        "structured output: json_schema",
        openai=Call(body={"response_format": JSON_SCHEMA_FORMAT}),
        anthropic=Call(
            body={"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}}
        ),
        upstream_gets=schema_reached_the_upstream,
    ),
    Row(
        "structured output: json_object",
        openai=Call(body={"response_format": {"type": "json_object"}}),
        reply=json_object_reply,
        upstream_gets=json_object_instructed_and_prefilled,
        client_gets=whole_json_object,
        pairings=(("openai", "openai"), ("openai", "anthropic")),
    ),
    Row(
        "parameters with no counterpart are refused",
        openai=Call(body={"seed": 7}),
        anthropic=Call(body={"service_tier": "standard_only"}),
        upstream_gets=untranslatable_reached_only_its_own_api,
        client_gets=refused_or_passed,
        reaches_upstream=lambda p: p.passthrough,
    ),
    Row(
        "temperature and top_k as given",
        openai=Call(body={"temperature": 1.7, "top_k": 5}),
        anthropic=Call(body={"temperature": 0.7, "top_k": 5}),
        upstream_gets=sampling_as_given,
    ),
    Row("token limits", upstream_gets=token_limit_named_for_the_upstream),
    Row(
        "refusals",
        reply=refusal_reply,
        client_gets=refusal_recognisable,
    ),
    Row(
        "empty turns are kept",
        openai=Call(
            body={
                "messages": [
                    {"role": "user", "content": ""},
                    {"role": "assistant", "content": ""},
                    {"role": "user", "content": "Hi"},
                ]
            }
        ),
        anthropic=Call(
            body={
                "messages": [
                    {"role": "user", "content": []},
                    {"role": "assistant", "content": []},
                    {"role": "user", "content": "Hi"},
                ]
            }
        ),
        upstream_gets=empty_turns_kept,
    ),
    Row(
        "the legacy function role",
        openai=Call(
            body={
                "messages": [
                    {"role": "user", "content": "Weather?"},
                    {
                        "role": "assistant",
                        "content": None,
                        "function_call": {"name": "weather", "arguments": '{"city": "Paris"}'},
                    },
                    {"role": "function", "name": "weather", "content": "18C"},
                ],
                "functions": [{"name": "weather", "parameters": SCHEMA}],
            }
        ),
        upstream_gets=function_role_as_tool_result,
        pairings=(("openai", "openai"), ("openai", "anthropic")),
    ),
    Row(
        "PDF documents",
        openai=Call(body={"messages": [{"role": "user", "content": [FILE_PART]}]}),
        anthropic=Call(body={"messages": [{"role": "user", "content": [DOCUMENT]}]}),
        upstream_gets=document_in_the_upstreams_shape,
    ),
    Row(
        "tool arguments cut by the token limit",
        reply=cut_tool_call_reply,
        client_gets=cut_arguments_returned_as_they_are,
    ),
]

HEADERS: list[Row] = [
    Row(
        "anthropic-beta reaches an Anthropic upstream, openai-beta an OpenAI one",
        openai=BOTH_SEND,
        anthropic=BOTH_SEND,
        upstream_gets=api_headers_go_to_their_own_api,
    ),
    Row(
        "the client's anthropic-version is not overridden",
        anthropic=Call(headers={"anthropic-version": "2099-01-01"}),
        upstream_gets=clients_anthropic_version_is_kept,
    ),
    Row(
        "openai-organization and openai-project reach an OpenAI upstream",
        openai=Call(headers=OPENAI_ACCOUNT),
        anthropic=Call(headers=OPENAI_ACCOUNT),
        upstream_gets=openai_account_reaches_openai,
    ),
    Row(
        "custom x- headers pass; x-stainless- only to the SDK's own API",
        openai=Call(headers={"x-trace-id": "trace-1"}),
        anthropic=Call(headers={"x-trace-id": "trace-1"}),
        upstream_gets=custom_headers_pass_and_sdk_headers_stay_in_their_api,
    ),
    Row(
        "the route's key replaces the client's; hop headers stay behind",
        openai=Call(headers=HOP_HEADERS),
        anthropic=Call(headers=HOP_HEADERS),
        upstream_gets=only_the_routes_key_reaches_the_upstream,
    ),
    Row(
        "request ids, retry hints and rate limits come back",
        reply=text_with_headers,
        client_gets=useful_headers_come_back,
    ),
]

ERRORS: list[Row] = [
    Row(
        "an upstream error arrives byte for byte, or translated, with its headers",
        reply=error_of_each_api,
        client_gets=error_body_untouched_or_translated,
    ),
    Row(
        "rate limits and overload keep their status and kind",
        reply=overloaded,
        client_gets=overload_keeps_its_status_and_kind,
    ),
    Row(
        "a mid-stream error keeps its type",
        reply=fails_mid_stream,
        client_gets=mid_stream_error_keeps_its_type,
        streams=(True,),
    ),
    Row(
        "a 200 whose body is an error is not a success",
        reply=error_with_status_200,
        client_gets=is_not_a_success,
        streams=(False,),
    ),
    Row(
        "the route's key is redacted from an error inside an answer",
        reply=quotes_the_routes_key,
        client_gets=the_key_is_redacted,
    ),
]

RESPONSES_API: list[Row] = [  # docs/RESPONSES.md
    Row(
        "Responses: plain text",
        upstream_gets=responses_request_arrived,
        client_gets=responses_text_and_usage,
        pairings=RESPONSES,
    ),
    Row(
        "Responses: a function call round trip",
        responses=Call(body={"input": TOOL_LOOP, "tools": [EXEC_TOOL], "tool_choice": "required"}),
        reply=next_call_reply,
        upstream_gets=tool_loop_in_the_upstreams_shape,
        client_gets=the_next_call_comes_back,
        pairings=RESPONSES,
    ),
    Row(
        "Responses: images by URL and inline",
        responses=Call(body={"input": IMAGES_INPUT}),
        upstream_gets=images_in_the_upstreams_shape,
        client_gets=answered,
        pairings=RESPONSES,
    ),
    Row(
        "Responses: reasoning",
        responses=Call(body={"reasoning": {"effort": "low"}}),
        reply=responses_thinking_reply,
        upstream_gets=effort_reached_the_upstream,
        client_gets=reasoning_item_before_the_message,
        pairings=RESPONSES_FAKES,
    ),
    Row(
        "Responses: reasoning with a forced tool goes without thinking",
        responses=Call(
            body={"reasoning": {"effort": "low"}, "tools": [EXEC_TOOL], "tool_choice": "required"}
        ),
        upstream_gets=no_thinking_with_a_forced_tool,
        client_gets=dropped_thinking_is_logged,
        pairings=(("responses", "anthropic"),),
    ),
    Row(
        "Responses: reasoning with no room for the smallest budget goes without thinking",
        responses=Call(body={"reasoning": {"effort": "low"}, "max_output_tokens": 1000}),
        upstream_gets=no_thinking_without_room_for_it,
        pairings=(("responses", "anthropic"),),
    ),
    Row(
        "Responses: structured output (text.format)",
        responses=Call(body={"text": TEXT_FORMAT}),
        upstream_gets=text_format_in_the_upstreams_shape,
        client_gets=answered,
        pairings=RESPONSES_FAKES,
    ),
    Row(
        "Responses: text.verbosity is mapped, or refused where it has no counterpart",
        responses=Call(body={"text": {"verbosity": "low"}}),
        upstream_gets=verbosity_reached_the_upstream,
        client_gets=verbosity_mapped_or_refused,
        pairings=RESPONSES_FAKES,
        reaches_upstream=lambda p: p.upstream != "anthropic",
    ),
    Row(
        "Responses: top_logprobs is refused unless passed through",
        responses=Call(body={"top_logprobs": 3}),
        upstream_gets=top_logprobs_reached_the_pass_through,
        client_gets=top_logprobs_refused_unless_passed_through,
        pairings=RESPONSES_FAKES,
        reaches_upstream=lambda p: p.passthrough,
    ),
    Row(
        "Responses: headers reach their own API and useful ones come back",
        responses=Call(
            headers={"anthropic-beta": BETA, "openai-beta": "responses=v1", "x-trace-id": "trace-1"}
        ),
        reply=text_with_headers,
        upstream_gets=responses_headers_go_to_their_own_api,
        client_gets=useful_headers_come_back,
        pairings=RESPONSES_FAKES,
    ),
    Row(
        "Responses: an upstream error arrives as it was, or translated, with its headers",
        reply=error_of_each_api,
        client_gets=responses_error_untouched_or_translated,
        pairings=RESPONSES_FAKES,
    ),
    Row(
        "Responses: a rate limit keeps its status, kind and retry-after",
        reply=rate_limited,
        client_gets=rate_limit_and_retry_after_reach_the_client,
        pairings=RESPONSES,
        sim="+status=429",
    ),
    Row(
        "Responses: a mid-stream error ends with response.failed keeping its code",
        reply=responses_fails_mid_stream,
        client_gets=response_failed_keeps_the_upstreams_error,
        pairings=RESPONSES_FAKES,
        streams=(True,),
    ),
    Row(
        "Responses: the route's key is redacted from an error inside an answer",
        reply=quotes_the_routes_key_in_responses,
        client_gets=the_key_is_redacted_for_responses,
        pairings=RESPONSES_FAKES,
    ),
]

ROWS: list[Row] = [*BASICS, *TRANSLATION, *HEADERS, *ERRORS, *RESPONSES_API]


# --- running a row ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream() -> Iterator[RecordingUpstream]:
    with running_recording_upstream() as fake:
        yield fake


def fidelity_config(upstream_url: str) -> str:
    return f"""
api_keys = ["{API_KEY}"]

[[models]]
name = "oa-*"
provider = "openai"
base_url = "{upstream_url}/v1"
api_key = "sk-route-openai"
# Translation rows expect max_completion_tokens and reasoning_effort on this upstream.
reasoning_model = true

[[models]]
name = "an-*"
provider = "anthropic"
base_url = "{upstream_url}"
api_key = "sk-route-anthropic"

[[models]]
name = "pt-*"
provider = "openai"
base_url = "{upstream_url}/v1"
api_key = "sk-route-responses"
responses = "pass-through"

[[models]]
name = "sim-*"
provider = "sim"
"""


@pytest.fixture(scope="module")
def fidelity_gateway(
    upstream: RecordingUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    path: Path = tmp_path_factory.mktemp("fidelity") / "gateway.toml"
    path.write_text(fidelity_config(upstream.base_url))
    with running(["serve", "--config", str(path), "--port", "0"]) as server:
        yield server


_requests = itertools.count()
MODEL_PREFIXES: dict[Upstream, str] = {
    "openai": "oa",
    "anthropic": "an",
    "responses": "pt",
    "sim": "sim",
}


def call(gateway: RunningServer, p: Pairing, row: Row) -> Outcome:
    """Send the row's request as ``p.client``'s SDK would and collect what comes back."""
    # A model name used once, so that the access log line of this request can be found.
    model = f"{MODEL_PREFIXES[p.upstream]}-m{next(_requests)}"
    if p.upstream == "sim":
        model += row.sim
    if p.client == "openai":
        outcome = _call_openai(gateway, model, row.openai, p.stream)
    elif p.client == "anthropic":
        outcome = _call_anthropic(gateway, model, row.anthropic, p.stream)
    else:
        outcome = _call_responses(gateway, model, row.responses, p.stream)
    outcome.log = lambda: gateway.wait_for_output(f"model={model} status=")
    outcome.said = gateway.wait_for_output
    return outcome


def _call_openai(gateway: RunningServer, model: str, extra: Call, stream: bool) -> Outcome:
    with openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=API_KEY, max_retries=0) as client:
        create = client.chat.completions.with_raw_response.create
        return _collect_openai(
            lambda: create(
                messages=[{"role": "user", "content": "Hi"}], **_sent(model, extra, stream)
            ),
            stream,
        )


def _call_responses(gateway: RunningServer, model: str, extra: Call, stream: bool) -> Outcome:
    with openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=API_KEY, max_retries=0) as client:
        create = client.responses.with_raw_response.create
        return _collect_openai(lambda: create(input="Hi", **_sent(model, extra, stream)), stream)


def _call_anthropic(gateway: RunningServer, model: str, extra: Call, stream: bool) -> Outcome:
    with anthropic.Anthropic(base_url=gateway.base_url, api_key=API_KEY, max_retries=0) as client:
        create = client.messages.with_raw_response.create
        return _collect(
            lambda: create(
                max_tokens=64,
                messages=[{"role": "user", "content": "Hi"}],
                **_sent(model, extra, stream),
            ),
            stream,
            anthropic.APIStatusError,
            anthropic.APIError,
        )


def _sent(model: str, extra: Call, stream: bool) -> dict[str, Any]:
    """What every SDK call sends besides its API's own plain request."""
    return {
        "model": model,
        "stream": stream,
        "extra_headers": dict(extra.headers),
        "extra_body": dict(extra.body),
    }


def _collect_openai(create: Callable[[], Any], stream: bool) -> Outcome:
    return _collect(create, stream, openai.APIStatusError, openai.APIError)


def _collect(
    create: Callable[[], Any],
    stream: bool,
    status_error: type[openai.APIStatusError | anthropic.APIStatusError],
    stream_error: type[openai.APIError | anthropic.APIError],
) -> Outcome:
    """Make the SDK call (``with_raw_response``) and read what it returns or raises."""
    try:
        raw = create()
    except status_error as error:
        response = error.response
        return Outcome(
            response.status_code,
            response.headers,
            body=json.loads(response.content),
            raw=response.content,
            error=error,
        )
    outcome = Outcome(raw.status_code, raw.headers)
    if not stream:
        outcome.raw = raw.http_response.content
        outcome.body = json.loads(outcome.raw)
        return outcome
    try:
        for item in raw.parse():
            outcome.events.append(item.to_dict())
    except stream_error as error:
        outcome.error = error
    return outcome


def _cases() -> Iterator[Any]:
    for row in ROWS:
        for client, upstream_api in row.pairings:
            for stream in row.streams:
                p = Pairing(client, upstream_api, stream)
                yield pytest.param(row, p, id=f"{row.name}[{p}]")


@pytest.mark.parametrize(("row", "p"), _cases())
def test_row(
    row: Row, p: Pairing, upstream: RecordingUpstream, fidelity_gateway: RunningServer
) -> None:
    upstream.reset()
    if row.reply is not None and p.upstream != "sim":
        upstream.queue(row.reply(p))
    outcome = call(fidelity_gateway, p, row)
    if not row.reaches_upstream(p) or p.upstream == "sim":
        assert upstream.received == [], "the gateway (or its simulator) must answer this itself"
        row.client_gets(p, outcome)
        return
    assert len(upstream.received) == 1, "the upstream must get exactly one request"
    sent = upstream.last
    assert sent.path == PATHS[p.upstream]
    row.upstream_gets(p, sent)
    row.client_gets(p, outcome)


PATHS: dict[Upstream, str] = {
    "openai": OPENAI_PATH,
    "anthropic": ANTHROPIC_PATH,
    "responses": RESPONSES_PATH,
}


# --- count_tokens: an Anthropic-only endpoint, so outside the four-pairing table -------------

CLAUDE_CODE_HEADERS = {
    "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,context-1m-2025-08-07",
    "x-app": "cli",
    "user-agent": "claude-cli/2.0.0 (external, cli)",
}


def count_tokens(gateway: RunningServer, model: str) -> Any:
    with anthropic.Anthropic(base_url=gateway.base_url, api_key=API_KEY, max_retries=0) as client:
        return client.messages.with_raw_response.count_tokens(
            model=model,
            messages=[{"role": "user", "content": "Hi"}],
            extra_headers=CLAUDE_CODE_HEADERS,
        )


def test_count_tokens_takes_claude_codes_betas_to_an_anthropic_upstream_and_back(
    upstream: RecordingUpstream, fidelity_gateway: RunningServer
) -> None:
    upstream.reset()
    answer = {"input_tokens": 2095, "context_management": {"original_input_tokens": 2095}}
    upstream.queue(json_reply(answer, headers={"request-id": "req_count"}))
    counted = count_tokens(fidelity_gateway, "an-count")
    # The upstream's answer, as it is, with its request id.
    assert counted.parse().to_dict() == answer
    assert counted.headers["request-id"] == "req_count"
    sent = upstream.last
    assert sent.path == "/v1/messages/count_tokens"
    assert sent.headers["anthropic-beta"] == CLAUDE_CODE_HEADERS["anthropic-beta"]
    assert sent.headers["x-app"] == "cli"
    assert sent.headers["x-api-key"] == "sk-route-anthropic"


def test_count_tokens_passes_an_upstream_error_on_as_it_is(
    upstream: RecordingUpstream, fidelity_gateway: RunningServer
) -> None:
    upstream.reset()
    upstream.queue(json_reply(ANTHROPIC_400, 400, {"request-id": "req_count"}))
    with pytest.raises(anthropic.BadRequestError) as caught:
        count_tokens(fidelity_gateway, "an-count")
    assert caught.value.response.content == orjson.dumps(ANTHROPIC_400)
    assert caught.value.response.headers["request-id"] == "req_count"
