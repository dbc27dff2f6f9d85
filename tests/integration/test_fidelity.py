"""The fidelity contract: what each feature looks like on both sides of the gateway.

Every row of :data:`ROWS` is one feature. It runs in all four pairings (an OpenAI or an
Anthropic client, in front of an OpenAI or an Anthropic upstream), streaming and not,
through a real gateway process, with the official ``openai`` and ``anthropic`` SDKs as the
clients and :mod:`tests.fakes.recording_upstream` as the upstream, which answers what the
row scripts and records what it receives.

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
differ. The ids read ``row name[client->upstream,stream|whole]``, so
``pytest -k 'anthropic-beta'`` runs one row.

One gateway and one fake serve the whole module; each case clears the fake first.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import anthropic
import openai
import pytest

from tests.fakes.recording_upstream import (
    USAGE_IN,
    USAGE_OUT,
    Api,
    RecordingUpstream,
    Reply,
    running_recording_upstream,
)
from tests.fakes.serving import Received
from tests.integration.conftest import API_KEY
from tests.processes import RunningServer, running

# --- the machinery ------------------------------------------------------------------------


class Pairing(NamedTuple):
    client: Api
    upstream: Api
    stream: bool

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

    @property
    def text(self) -> str:
        """The assistant's text, whichever shape and whether streamed or not."""
        if self.events:
            return "".join(_event_text(event) for event in self.events)
        if isinstance(self.body, dict) and "choices" in self.body:
            return str(self.body["choices"][0]["message"]["content"] or "")
        if isinstance(self.body, dict) and "content" in self.body:
            return "".join(b.get("text", "") for b in self.body["content"])
        return ""


def _event_text(event: dict[str, Any]) -> str:
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
    reply: Callable[[Pairing], Reply] | None = None
    upstream_gets: Check = nothing
    client_gets: Check = nothing
    pairings: tuple[tuple[Api, Api], ...] = ALL
    streams: tuple[bool, ...] = (False, True)


# --- the checks rows use -------------------------------------------------------------------


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


# --- the contract --------------------------------------------------------------------------

ROWS: list[Row] = [
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

[[models]]
name = "an-*"
provider = "anthropic"
base_url = "{upstream_url}"
api_key = "sk-route-anthropic"
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


def call(gateway: RunningServer, p: Pairing, row: Row) -> Outcome:
    """Send the row's request as ``p.client``'s SDK would and collect what comes back."""
    # A model name used once, so that the access log line of this request can be found.
    model = f"{'oa' if p.upstream == 'openai' else 'an'}-m{next(_requests)}"
    if p.client == "openai":
        outcome = _call_openai(gateway, model, row.openai, p.stream)
    else:
        outcome = _call_anthropic(gateway, model, row.anthropic, p.stream)
    outcome.log = lambda: gateway.wait_for_output(f"model={model} status=")
    return outcome


def _call_openai(gateway: RunningServer, model: str, extra: Call, stream: bool) -> Outcome:
    with openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=API_KEY, max_retries=0) as client:
        return _collect(
            lambda: client.chat.completions.with_raw_response.create(
                model=model,
                messages=[{"role": "user", "content": "Hi"}],
                stream=stream,
                extra_headers=dict(extra.headers),
                extra_body=dict(extra.body),
            ),
            stream,
            openai.APIStatusError,
            openai.APIError,
        )


def _call_anthropic(gateway: RunningServer, model: str, extra: Call, stream: bool) -> Outcome:
    with anthropic.Anthropic(base_url=gateway.base_url, api_key=API_KEY, max_retries=0) as client:
        return _collect(
            lambda: client.messages.with_raw_response.create(
                model=model,
                max_tokens=64,
                messages=[{"role": "user", "content": "Hi"}],
                stream=stream,
                extra_headers=dict(extra.headers),
                extra_body=dict(extra.body),
            ),
            stream,
            anthropic.APIStatusError,
            anthropic.APIError,
        )


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
    if row.reply is not None:
        upstream.queue(row.reply(p))
    outcome = call(fidelity_gateway, p, row)
    assert len(upstream.received) == 1, "the upstream must get exactly one request"
    sent = upstream.last
    assert sent.path == ("/v1/chat/completions" if p.upstream == "openai" else "/v1/messages")
    row.upstream_gets(p, sent)
    row.client_gets(p, outcome)
