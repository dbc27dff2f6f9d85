"""Named client keys on a real gateway: per-client counts, access lines, and no key shown.

A gateway with two workers, three ``[[keys]]`` (one read from the environment) and one
unnamed key serves known traffic from the official SDKs, some of it with wrong keys or
none. What ``llm-gateway top`` reads through the control socket must count each client
exactly, the access lines must name each request's client, and no surface of the run
(the process's stdout and stderr, the access lines, the error bodies, the control
socket's figures and log lines) may carry any key in full.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from llm_gateway.control.wire import encode_snapshot
from llm_gateway.dashboard.remote import RemoteFeed
from llm_gateway.metrics.snapshot import Snapshot
from tests.dashboard.polling import until
from tests.processes import RunningServer, running

ALICE = "sk-alice-7f3e9a0c5b1d2e4f6a8b"
BOB = "sk-bob-from-the-environment-91c2"
CAROL = "sk-carol-0d4c6e8f1a3b5c7d9e2f"
UNNAMED = "sk-unnamed-5e6f7a8b9c0da1b2"
WRONG = "sk-wrong-key-that-is-nobodys-0000"
KEYS = (ALICE, BOB, CAROL, UNNAMED, WRONG)

CONFIG = f"""
api_keys = ["{UNNAMED}"]

[[keys]]
label = "alice"
key = "{ALICE}"

[[keys]]
label = "bob"
key = "env:BOB_KEY"

[[keys]]
label = "carol"
key = "{CAROL}"

[[models]]
name = "*"
provider = "sim"
"""
MESSAGES = [{"role": "user", "content": "Say something about the sea."}]

SENT = {
    # label: (requests, errors)
    "alice": (6, 1),
    "bob": (4, 0),
    "carol": (3, 0),
    "key-…a1b2": (1, 0),
    "(unauthenticated)": (4, 4),
}


@dataclass
class Run:
    """What one run of the gateway left behind, to be checked."""

    snapshot: Snapshot = field(default_factory=Snapshot)
    tokens: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Input and output tokens per client, as the SDKs reported them."""
    error_bodies: list[str] = field(default_factory=list)
    control_logs: list[str] = field(default_factory=list)
    """The log lines the control socket sent, as ``top`` shows them."""
    snapshot_wire: bytes = b""
    output: str = ""
    """The process's stdout and stderr, start to stop."""


async def send(base_url: str, run: Run) -> None:
    """Each client's known requests, through the official SDKs, one client at a time."""
    v1 = f"{base_url}/v1"
    tokens = dict.fromkeys(SENT, (0, 0))

    def count(label: str, tokens_in: int, tokens_out: int) -> None:
        before = tokens[label]
        tokens[label] = (before[0] + tokens_in, before[1] + tokens_out)

    async with openai.AsyncOpenAI(base_url=v1, api_key=ALICE, max_retries=0) as alice:
        for _ in range(5):
            reply = await alice.chat.completions.create(model="sim-chat", messages=MESSAGES)  # type: ignore[arg-type]
            assert reply.usage is not None
            count("alice", reply.usage.prompt_tokens, reply.usage.completion_tokens)
        with pytest.raises(openai.BadRequestError) as refused:
            await alice.chat.completions.create(model="sim-chat", messages=[])
        run.error_bodies.append(refused.value.response.text)

    async with anthropic.AsyncAnthropic(base_url=base_url, api_key=BOB, max_retries=0) as bob:
        for _ in range(4):
            message = await bob.messages.create(
                model="sim-messages",
                max_tokens=64,
                messages=MESSAGES,  # type: ignore[arg-type]
            )
            count("bob", message.usage.input_tokens, message.usage.output_tokens)

    async with openai.AsyncOpenAI(base_url=v1, api_key=CAROL, max_retries=0) as carol:
        for _ in range(3):
            response = await carol.responses.create(model="sim-responses", input="Hi")
            assert response.usage is not None
            count("carol", response.usage.input_tokens, response.usage.output_tokens)

    async with openai.AsyncOpenAI(base_url=v1, api_key=UNNAMED, max_retries=0) as unnamed:
        reply = await unnamed.chat.completions.create(model="sim-chat", messages=MESSAGES)  # type: ignore[arg-type]
        assert reply.usage is not None
        count("key-…a1b2", reply.usage.prompt_tokens, reply.usage.completion_tokens)

    async with openai.AsyncOpenAI(base_url=v1, api_key=WRONG, max_retries=0) as wrong:
        for _ in range(2):
            with pytest.raises(openai.AuthenticationError) as caught:
                await wrong.chat.completions.create(model="sim-chat", messages=MESSAGES)  # type: ignore[arg-type]
            run.error_bodies.append(caught.value.response.text)
    async with anthropic.AsyncAnthropic(
        base_url=base_url, api_key=WRONG, max_retries=0
    ) as stranger:
        with pytest.raises(anthropic.AuthenticationError) as refused_messages:
            await stranger.messages.create(model="sim-messages", max_tokens=8, messages=MESSAGES)  # type: ignore[arg-type]
        run.error_bodies.append(refused_messages.value.response.text)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as keyless:
        # The right key in the wrong scheme counts as none sent.
        basic = await keyless.post(
            "/v1/chat/completions",
            json={"model": "sim-chat", "messages": MESSAGES},
            headers={"authorization": f"Basic {ALICE}"},
        )
        assert basic.status_code == 401
        run.error_bodies.append(basic.text)
    run.tokens = tokens


async def watch(socket: Path, base_url: str, run: Run) -> None:
    """Send the traffic while attached to the control socket, as ``top`` is."""
    feed = await RemoteFeed.attach(socket)
    following = asyncio.create_task(feed.follow())
    try:
        await send(base_url, run)
        total = sum(requests for requests, _ in SENT.values())
        await until(
            lambda: feed.snapshot().requests_total == total,
            within=20,
            what="the control socket to count every request",
        )
        run.snapshot = feed.snapshot()
        run.snapshot_wire = encode_snapshot(run.snapshot)
        await until(
            lambda: (
                bool(lines := feed.log_reader(back=10_000).read().records())
                and sum(".access" in line.logger for line in lines) == total
            ),
            within=20,
            what="the control socket to send every access line",
        )
        run.control_logs = [line.message for line in feed.log_reader(back=10_000).read().records()]
    finally:
        following.cancel()
        feed.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, RunningServer]]:
    """One run of the gateway at debug level, its traffic sent and its process stopped."""
    where = tmp_path_factory.mktemp("clients")
    config = where / "gateway.toml"
    config.write_text(CONFIG)
    socket = where / "gw.sock"
    run = Run()
    args = ["serve", "--port", "0", "--workers", "2", "--log-level", "debug"]
    args += ["--config", str(config), "--control-socket", str(socket)]
    with running(args, env={"BOB_KEY": BOB}) as gateway:
        asyncio.run(watch(socket, gateway.base_url, run))
    run.output = "".join(gateway.output)
    yield run, gateway


def test_per_client_counts_equal_what_each_client_sent(served: tuple[Run, RunningServer]) -> None:
    run, _ = served
    clients = {c.label: c for c in run.snapshot.clients}

    assert {label: (c.requests, c.errors) for label, c in clients.items()} == SENT
    for label, (tokens_in, tokens_out) in run.tokens.items():
        assert (clients[label].input_tokens, clients[label].output_tokens) == (
            tokens_in,
            tokens_out,
        ), label
    busiest_first = sorted(SENT, key=lambda label: (-SENT[label][0], label))
    assert [c.label for c in run.snapshot.clients] == busiest_first
    assert sum(c.share for c in clients.values()) == pytest.approx(1.0)


def test_access_lines_name_each_request_s_client(served: tuple[Run, RunningServer]) -> None:
    run, _ = served
    access = [line for line in run.output.splitlines() if "llm_gateway.access:" in line]
    named = [m.group(1) for line in access if (m := re.search(r" client=(\S+)", line))]

    assert len(named) == len(access)
    assert {label: named.count(label) for label in SENT} == {
        label: requests for label, (requests, _) in SENT.items()
    }
    refused = [line for line in access if "client=(unauthenticated)" in line]
    assert all(" status=401 " in line and "error=auth" in line for line in refused)


def test_no_key_appears_in_full_anywhere(served: tuple[Run, RunningServer]) -> None:
    run, _ = served
    surfaces = {
        "stdout and stderr": run.output,
        "error bodies": "\n".join(run.error_bodies),
        "control socket figures": run.snapshot_wire.decode(),
        "control socket log lines": "\n".join(run.control_logs),
    }
    # The surfaces hold what they should, so finding no key in them means something.
    assert "client=alice" in run.output
    assert "Invalid API key" in surfaces["error bodies"]
    assert "key-…a1b2" in surfaces["control socket figures"]
    assert len(run.control_logs) >= sum(requests for requests, _ in SENT.values())
    for where, text in surfaces.items():
        for key in KEYS:
            assert key not in text, f"a key in full in the {where}"
