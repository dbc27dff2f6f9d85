"""The requests in flight on a real gateway, read through the control socket as ``top`` reads them.

A gateway with two workers in front of the simulator serves slow streams from the official
SDKs: each is listed while it runs, with its API, model, client, upstream, state and
growing output, and leaves the list however it ends: its last byte, its client gone
mid-stream or while waiting, an upstream reset, an upstream error. The simulator's
directives make a stream slow (``+tps``), its answer late (``+delay``) or cut
(``+reset``); a hostile upstream sends a whole answer's headers and then stalls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import anthropic
import openai
import pytest
from anthropic.types import MessageParam
from openai.types.chat import ChatCompletionMessageParam

from llm_gateway.dashboard.remote import RemoteFeed
from llm_gateway.metrics.snapshot import InFlightRequest
from tests.dashboard.polling import until
from tests.fakes.hostile_upstream import HostileUpstream
from tests.processes import RunningServer, running

KEY = "sk-in-flight-0123456789"
CHAT: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Tell me about the tides."}]
PROMPT: list[MessageParam] = [{"role": "user", "content": "Tell me about the tides."}]
SLOW = "+tokens=40+tps=10"
"""Four seconds of stream: long enough to be seen streaming in several reports."""


@dataclass(frozen=True)
class Gateway:
    base_url: str
    control: Path


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileUpstream]:
    with HostileUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def gateway(
    sim_server: RunningServer, hostile: HostileUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A two-worker gateway with a control socket: ``oa-`` models are the simulator's,
    ``bad-`` ones the hostile upstream's."""
    folder = tmp_path_factory.mktemp("in-flight")
    config = folder / "gateway.toml"
    config.write_text(
        f"""
[[keys]]
label = "tester"
key = "{KEY}"

[[models]]
name = "oa-*"
provider = "openai"
base_url = "{sim_server.base_url}/v1"
responses = "pass-through"

[[models]]
name = "bad-*"
provider = "openai"
base_url = "{hostile.url}/v1"
"""
    )
    socket = folder / "gw.sock"
    args = ["serve", "--config", str(config), "--port", "0", "--workers", "2"]
    with running([*args, "--control-socket", str(socket)]) as server:
        yield Gateway(server.base_url, socket)


@pytest.fixture
async def feed(gateway: Gateway) -> AsyncIterator[RemoteFeed]:
    """A viewer attached to the gateway, following its updates, as ``top`` is."""
    feed = await RemoteFeed.attach(gateway.control)
    following = asyncio.create_task(feed.follow())
    try:
        yield feed
    finally:
        following.cancel()
        feed.close()


@dataclass(frozen=True)
class Clients:
    """The official SDKs, each reading a whole stream of one API."""

    openai: openai.AsyncOpenAI
    anthropic: anthropic.AsyncAnthropic

    async def chat(self, model: str) -> str:
        stream = await self.openai.chat.completions.create(
            model=model,
            messages=CHAT,
            stream=True,
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    async def messages(self, model: str) -> str:
        async with self.anthropic.messages.stream(
            model=model,
            max_tokens=100,
            messages=PROMPT,
        ) as stream:
            return "".join([text async for text in stream.text_stream])

    async def responses(self, model: str) -> str:
        stream = await self.openai.responses.create(model=model, input="Hi", stream=True)
        return "".join([e.delta async for e in stream if e.type == "response.output_text.delta"])


@pytest.fixture
async def clients(gateway: Gateway) -> AsyncIterator[Clients]:
    async with (
        openai.AsyncOpenAI(base_url=gateway.base_url + "/v1", api_key=KEY, max_retries=0) as oai,
        anthropic.AsyncAnthropic(base_url=gateway.base_url, api_key=KEY, max_retries=0) as ant,
    ):
        yield Clients(oai, ant)


def listed(feed: RemoteFeed) -> dict[str, InFlightRequest]:
    return {request.model: request for request in feed.snapshot().in_flight}


async def none_left(feed: RemoteFeed, what: str) -> None:
    """The list is empty and nothing is counted open: no request left an entry behind."""
    await until(
        lambda: feed.snapshot().in_flight == () and feed.snapshot().active_connections == 0,
        within=10,
        what=f"no request in flight after {what}",
    )


async def test_three_slow_streams_are_listed_with_growing_output_and_leave_when_done(
    feed: RemoteFeed, clients: Clients
) -> None:
    streams = asyncio.gather(
        clients.chat("oa-chat" + SLOW),
        clients.messages("oa-messages" + SLOW),
        clients.responses("oa-responses" + SLOW),
    )
    await until(
        lambda: [r.state for r in listed(feed).values()] == ["streaming"] * 3,
        within=10,
        what="three streams listed as streaming",
    )
    rows = listed(feed)
    assert {(model, r.api, r.client, r.upstream) for model, r in rows.items()} == {
        ("oa-chat" + SLOW, "openai", "tester", "openai"),
        ("oa-messages" + SLOW, "anthropic", "tester", "openai"),
        ("oa-responses" + SLOW, "responses", "tester", "openai"),
    }
    ages = [r.age_s for r in feed.snapshot().in_flight]
    assert ages == sorted(ages, reverse=True), "oldest first"
    await until(
        lambda: (
            all(
                now.output_tokens > rows[model].output_tokens for model, now in listed(feed).items()
            )
            and len(listed(feed)) == 3
        ),
        within=10,
        what="each stream's output to grow",
    )

    texts = await streams

    assert all(texts)
    await none_left(feed, "three streams ended")


async def test_a_late_answer_is_waiting_until_its_headers_come(
    feed: RemoteFeed, clients: Clients
) -> None:
    model = "oa-late+delay=1500+tokens=20+tps=10"
    answer = asyncio.create_task(clients.chat(model))
    await until(
        lambda: model in listed(feed) and listed(feed)[model].state == "waiting",
        within=10,
        what="the late request listed as waiting",
    )
    assert listed(feed)[model].output_tokens == 0
    await until(
        lambda: model in listed(feed) and listed(feed)[model].state == "streaming",
        within=10,
        what="the late request streaming once its answer began",
    )
    assert await answer
    await none_left(feed, "the late answer ended")


async def test_a_whole_answer_being_read_is_receiving_not_streaming(
    feed: RemoteFeed, clients: Clients, hostile: HostileUpstream
) -> None:
    # Its headers come, then a part of its body, then nothing: the gateway is reading it.
    model = "bad-stall"
    answer = asyncio.create_task(clients.openai.chat.completions.create(model=model, messages=CHAT))
    await until(
        lambda: model in listed(feed) and listed(feed)[model].state == "receiving",
        within=10,
        what="the whole answer listed as receiving",
    )
    answer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await answer
    await none_left(feed, "the client of a stalled whole answer left")
    await until(lambda: hostile.open == 0, within=10, what="the upstream let go")


async def test_a_client_that_leaves_mid_stream_leaves_the_list(
    feed: RemoteFeed, clients: Clients
) -> None:
    model = "oa-left+tokens=1000+tps=20"
    stream = await clients.openai.chat.completions.create(
        model=model,
        messages=CHAT,
        stream=True,
    )
    async for _ in stream:
        if model in listed(feed) and listed(feed)[model].output_tokens > 0:
            break
    await stream.close()

    await none_left(feed, "the client left mid-stream")


async def test_a_client_that_leaves_while_waiting_leaves_the_list(
    feed: RemoteFeed, clients: Clients
) -> None:
    model = "oa-never+delay=60000"
    waiting = asyncio.create_task(clients.chat(model))
    await until(lambda: model in listed(feed), within=10, what="the request listed")
    waiting.cancel()

    await none_left(feed, "the client left while waiting")


async def test_an_upstream_reset_and_an_upstream_error_leave_no_entry(
    feed: RemoteFeed, clients: Clients
) -> None:
    reset = "oa-reset+reset+tokens=40+tps=10"
    cut = asyncio.create_task(clients.messages(reset))
    await until(lambda: reset in listed(feed), within=10, what="the stream to be reset listed")
    with pytest.raises(anthropic.APIStatusError):
        await cut
    with pytest.raises(openai.InternalServerError):
        await clients.chat("oa-failing+status=500")

    await none_left(feed, "an upstream reset and an upstream error")
