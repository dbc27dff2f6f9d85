"""KiroProvider against the fake Kiro server over real loopback HTTP."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.providers.kiro import Backoff, KiroProvider, KiroReply
from llm_gateway.providers.kiro.auth import KiroAuth
from llm_gateway.providers.kiro.credentials import TokenFile, format_expiry
from llm_gateway.sse import SSEEvent
from tests.fakes.kiro_server import (
    Failure,
    FakeKiro,
    Stream,
    closing_frames,
    exception_frame,
    running_fake_kiro,
    text_frames,
    tool_frames,
)

NOW = 1_800_000_000.0
LATER = NOW + 3600
JITTER = 0.5
REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4.5",
    "max_tokens": 1000,
    "messages": [{"role": "user", "content": "Hello Kiro"}],
}


@pytest.fixture
def fake() -> Iterator[FakeKiro]:
    with running_fake_kiro() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


class Harness:
    """Builds providers for one test and remembers the backoff sleeps they asked for."""

    def __init__(self, fake: FakeKiro, session: aiohttp.ClientSession, tmp_path: Path) -> None:
        self.fake = fake
        self.session = session
        self.tmp_path = tmp_path
        self.sleeps: list[float] = []
        self.token_file = tmp_path / "kiro-auth-token.json"

    def write_token(self, access: str, expires_at: float = LATER, **extra: Any) -> None:
        data = {
            "accessToken": access,
            "refreshToken": self.fake.refresh_token,
            "expiresAt": format_expiry(expires_at),
            "region": "us-east-1",
            **extra,
        }
        self.token_file.write_bytes(orjson.dumps(data))

    def token_on_disk(self) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(self.token_file.read_bytes())
        return data

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def provider(self, *, environ: dict[str, str] | None = None, **route: Any) -> KiroProvider:
        fields: dict[str, Any] = {
            "base_url": self.fake.base_url,
            "refresh_url": self.fake.base_url + "/refreshToken",
            "credentials": str(self.token_file),
            "connect_timeout": 5.0,
            "read_timeout": 5.0,
            **route,
        }
        return KiroProvider(
            ModelRoute(name="claude-*", provider="kiro", **fields),
            self.session,
            backoff=Backoff(retries=3, base_s=0.5, cap_s=8.0),
            sleep=self.sleep,
            jitter=lambda: JITTER,
            clock=lambda: NOW,
            environ=environ or {},
            home=self.tmp_path,
        )


@pytest.fixture
def harness(fake: FakeKiro, session: aiohttp.ClientSession, tmp_path: Path) -> Harness:
    kit = Harness(fake, session, tmp_path)
    kit.write_token(fake.access_token)
    return kit


async def collect(reply: KiroReply) -> list[SSEEvent]:
    try:
        return [event async for event in reply.events()]
    finally:
        await reply.aclose()


async def read_json(reply: KiroReply) -> dict[str, Any]:
    try:
        data: dict[str, Any] = orjson.loads(await reply.read())
    finally:
        await reply.aclose()
    return data


def text_of(events: list[SSEEvent]) -> str:
    deltas = (event.json() for event in events if event.event == "content_block_delta")
    return "".join(
        d["delta"]["text"] for d in deltas if isinstance(d, dict) and "text" in d["delta"]
    )


async def test_streams_an_answer_with_the_kiro_headers_and_body(harness: Harness) -> None:
    fake = harness.fake
    fake.queue(Stream(text_frames("Hi ", "there") + closing_frames(credits=0.3)))
    reply = await harness.provider().send("anthropic", REQUEST, stream=True)
    events = await collect(reply)

    assert [e.event for e in events][:2] == ["message_start", "ping"]
    assert [e.event for e in events][-2:] == ["message_delta", "message_stop"]
    assert text_of(events) == "Hi there"
    assert events[0].raw == b"event: message_start\ndata: " + events[0].data + b"\n\n"
    assert reply.meta.tokens_estimated is True
    assert reply.meta.credits == pytest.approx(0.3)

    (chat,) = fake.chats
    assert chat.headers["Authorization"] == "Bearer access-0"
    assert chat.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert uuid.UUID(chat.headers["amz-sdk-invocation-id"]).version == 4
    assert chat.headers["User-Agent"].startswith("llm-gateway/")
    state = chat.body["conversationState"]
    assert uuid.UUID(state["conversationId"]).version == 4
    assert state["currentMessage"]["userInputMessage"]["content"] == "Hello Kiro"
    assert state["currentMessage"]["userInputMessage"]["modelId"] == "claude-sonnet-4.5"


async def test_reads_a_whole_tool_use_answer(harness: Harness) -> None:
    harness.fake.queue(
        Stream(
            text_frames("Checking.")
            + tool_frames("get_weather", "tooluse_9", ['{"city"', ': "Oslo"}'])
            + closing_frames(credits=0.5)
        )
    )
    reply = await harness.provider(profile_arn="arn:configured").send(
        "anthropic", REQUEST, stream=False
    )
    message = await read_json(reply)
    assert message["stop_reason"] == "tool_use"
    assert message["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "tooluse_9", "name": "get_weather", "input": {"city": "Oslo"}},
    ]
    assert message["usage"]["input_tokens"] > 0 and message["usage"]["output_tokens"] > 0
    assert reply.meta.credits == pytest.approx(0.5)
    assert harness.fake.chats[0].body["profileArn"] == "arn:configured"


@pytest.mark.parametrize("chunk", [1, 7])
async def test_frames_split_across_network_reads(harness: Harness, chunk: int) -> None:
    frames = (
        text_frames("a", "b", "c") + tool_frames("t", "id1", ['{"k":', "1}"]) + closing_frames()
    )
    harness.fake.queue(Stream(frames, chunk=chunk))
    message = await read_json(await harness.provider().send("anthropic", REQUEST, stream=False))
    assert message["content"] == [
        {"type": "text", "text": "abc"},
        {"type": "tool_use", "id": "id1", "name": "t", "input": {"k": 1}},
    ]


async def test_an_exception_frame_mid_stream_fails_the_stream(harness: Harness) -> None:
    harness.fake.queue(
        Stream([*text_frames("partial"), exception_frame("InternalServerException", "boom")])
    )
    reply = await harness.provider().send("anthropic", REQUEST, stream=True)
    seen: list[str | None] = []
    with pytest.raises(GatewayError, match="InternalServerException: boom") as caught:
        async for event in reply.events():
            seen.append(event.event)
    await reply.aclose()
    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)
    assert "content_block_delta" in seen


async def test_a_corrupted_frame_is_a_clear_upstream_error(harness: Harness) -> None:
    frame = bytearray(text_frames("hello")[0])
    frame[-6] ^= 0xFF
    harness.fake.queue(Stream([*text_frames("ok"), bytes(frame)]))
    reply = await harness.provider().send("anthropic", REQUEST, stream=False)
    with pytest.raises(GatewayError, match=r"corrupted response.*message CRC") as caught:
        await read_json(reply)
    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)


async def test_a_stream_cut_inside_a_frame_is_an_upstream_error(harness: Harness) -> None:
    harness.fake.queue(Stream([text_frames("hello")[0][:-3]]))
    reply = await harness.provider().send("anthropic", REQUEST, stream=False)
    with pytest.raises(GatewayError, match="middle of a frame"):
        await read_json(reply)


async def test_a_whole_answer_past_max_response_bytes_is_a_502(harness: Harness) -> None:
    """Like an HTTP upstream's body: the bytes Kiro sends for one answer are bounded."""
    frames = text_frames(*["x" * 500] * 20) + closing_frames()
    limit = sum(map(len, frames)) - 1
    harness.fake.queue(Stream(frames))
    request = {**REQUEST, "max_tokens": 100_000}
    reply = await harness.provider(max_response_bytes=limit).send(
        "anthropic", request, stream=False
    )
    with pytest.raises(GatewayError, match="upstream response too large") as caught:
        await read_json(reply)
    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)
    # Exactly at the limit, it is read.
    harness.fake.queue(Stream(frames))
    reply = await harness.provider(max_response_bytes=limit + 1).send(
        "anthropic", request, stream=False
    )
    assert (await read_json(reply))["content"] == [{"type": "text", "text": "x" * 10_000}]


@pytest.mark.parametrize("chunk", [None, 100])
async def test_a_stream_frame_past_max_response_bytes_ends_the_stream_with_a_502(
    harness: Harness, chunk: int | None
) -> None:
    """Like an HTTP upstream's stream event, one frame is bounded; the stream is not."""
    small = text_frames(*["a" * 100] * 50)
    big = text_frames("b" * 5000)
    harness.fake.queue(Stream(small + big + closing_frames(), chunk=chunk))
    limit = 4096
    assert sum(map(len, small)) > limit > len(small[0])
    request = {**REQUEST, "max_tokens": 100_000}
    reply = await harness.provider(max_response_bytes=limit).send("anthropic", request, stream=True)
    events: list[SSEEvent] = []
    with pytest.raises(GatewayError, match="upstream response too large") as caught:
        async for event in reply.events():
            events.append(event)
    await reply.aclose()
    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)
    assert text_of(events) == "a" * 5000


async def test_max_tokens_stops_reading_early(harness: Harness) -> None:
    harness.fake.queue(Stream(text_frames("x" * 10, "y" * 10, "z" * 10) + closing_frames()))
    request = {**REQUEST, "max_tokens": 3}
    message = await read_json(await harness.provider().send("anthropic", request, stream=False))
    assert message["content"] == [{"type": "text", "text": "x" * 10 + "yy"}]
    assert message["stop_reason"] == "max_tokens"


async def test_403_refreshes_once_retries_and_writes_the_token_back(harness: Harness) -> None:
    harness.write_token("stale", profileArn="arn:old", provider="Github")
    message = await read_json(await harness.provider().send("anthropic", REQUEST, stream=False))
    assert message["content"][0]["text"].startswith("echo: Hello Kiro")

    fake = harness.fake
    assert [chat.headers["Authorization"] for chat in fake.chats] == [
        "Bearer stale",
        "Bearer access-1",
    ]
    (refresh,) = fake.refreshes
    assert refresh.path == "/refreshToken"
    assert refresh.body == {"refreshToken": "refresh-0"}
    on_disk = harness.token_on_disk()
    assert on_disk["accessToken"] == "access-1"
    assert on_disk["refreshToken"] == "refresh-1"
    assert on_disk["expiresAt"] == format_expiry(NOW + 3600)
    assert on_disk["profileArn"] == fake.profile_arn
    assert on_disk["provider"] == "Github"


async def test_403_after_a_refresh_is_an_upstream_error(harness: Harness) -> None:
    harness.write_token("stale")
    harness.fake.queue(Failure(403, "AccessDeniedException"))
    with pytest.raises(GatewayError, match="after a refresh") as caught:
        await harness.provider().send("anthropic", REQUEST, stream=False)
    assert (caught.value.error_type, caught.value.status) == ("upstream", 403)
    assert len(harness.fake.refreshes) == 1


async def test_a_token_near_expiry_is_refreshed_before_use(harness: Harness) -> None:
    harness.write_token(harness.fake.access_token, expires_at=NOW + 60)
    await read_json(await harness.provider().send("anthropic", REQUEST, stream=False))
    assert len(harness.fake.refreshes) == 1
    assert [chat.headers["Authorization"] for chat in harness.fake.chats] == ["Bearer access-1"]


async def test_concurrent_requests_during_a_refresh_share_one_refresh(harness: Harness) -> None:
    harness.write_token("expired", expires_at=NOW - 10)
    provider = harness.provider()
    replies = await asyncio.gather(
        *(provider.send("anthropic", REQUEST, stream=False) for _ in range(8))
    )
    messages = await asyncio.gather(*(read_json(reply) for reply in replies))
    assert all(message["stop_reason"] == "end_turn" for message in messages)
    assert len(harness.fake.refreshes) == 1
    assert {chat.headers["Authorization"] for chat in harness.fake.chats} == {"Bearer access-1"}


async def test_concurrent_403s_share_one_refresh(harness: Harness) -> None:
    harness.write_token("revoked")
    provider = harness.provider()
    replies = await asyncio.gather(
        *(provider.send("anthropic", REQUEST, stream=False) for _ in range(6))
    )
    await asyncio.gather(*(read_json(reply) for reply in replies))
    assert len(harness.fake.refreshes) == 1


async def test_429_backs_off_exponentially_with_jitter_then_succeeds(harness: Harness) -> None:
    harness.fake.queue(Failure(429, "Too many requests"), Failure(429, "Too many requests"))
    message = await read_json(await harness.provider().send("anthropic", REQUEST, stream=False))
    assert message["stop_reason"] == "end_turn"
    assert harness.sleeps == [0.375, 0.75]
    assert len(harness.fake.chats) == 3


@pytest.mark.parametrize("status", [429, 503])
async def test_retries_are_bounded(harness: Harness, status: int) -> None:
    harness.fake.queue(*(Failure(status, "busy") for _ in range(4)), Stream(text_frames("late")))
    with pytest.raises(GatewayError, match="busy") as caught:
        await harness.provider().send("anthropic", REQUEST, stream=False)
    assert (caught.value.error_type, caught.value.status) == ("upstream", status)
    assert harness.sleeps == [0.375, 0.75, 1.5]
    assert len(harness.fake.chats) == 4


@pytest.mark.parametrize(
    ("failure", "error_type", "status", "message"),
    [
        (Failure(402, "Monthly limit reached", "MONTHLY_REQUEST_COUNT"), "upstream", 402, "quota"),
        (
            Failure(400, "Input is too long.", "CONTENT_LENGTH_EXCEEDS_THRESHOLD"),
            "validation",
            400,
            "too long",
        ),
        (
            Failure(400, "Invalid model.", "INVALID_MODEL_ID"),
            "validation",
            400,
            "claude-sonnet-4.5",
        ),
        (Failure(400, "Improperly formed request."), "validation", 400, "Improperly formed"),
        (Failure(404, "no such thing"), "upstream", 404, "no such thing"),
    ],
)
async def test_error_answers_are_classified_and_not_retried(
    harness: Harness, failure: Failure, error_type: str, status: int, message: str
) -> None:
    harness.fake.queue(failure)
    with pytest.raises(GatewayError, match=message) as caught:
        await harness.provider().send("anthropic", REQUEST, stream=False)
    assert (caught.value.error_type, caught.value.status) == (error_type, status)
    assert harness.sleeps == []


async def test_expired_credentials_and_a_failing_refresh_are_a_clear_error(
    harness: Harness,
) -> None:
    harness.write_token("expired", expires_at=NOW - 10)
    harness.fake.refresh_failure = Failure(401, "Invalid refresh token", "INVALID_GRANT")
    provider = harness.provider()
    for attempt in (1, 2):
        with pytest.raises(GatewayError, match="sign in to Kiro again") as caught:
            await provider.send("anthropic", REQUEST, stream=False)
        assert (caught.value.error_type, caught.value.status) == ("upstream", 502)
        assert "Invalid refresh token" in caught.value.message
        assert len(harness.fake.refreshes) == attempt
    assert harness.fake.chats == []
    assert harness.token_on_disk()["accessToken"] == "expired"


async def test_a_failing_refresh_that_quotes_our_secrets_does_not_pass_them_on(
    harness: Harness,
) -> None:
    fake = harness.fake
    harness.write_token(
        "expired", expires_at=NOW - 10, clientId=fake.client_id, clientSecret=fake.client_secret
    )
    fake.refresh_failure = Failure(
        400, f"bad grant for {fake.client_id}: {fake.client_secret} / {fake.refresh_token}"
    )
    provider = harness.provider(refresh_url=fake.base_url + "/token")

    with pytest.raises(GatewayError, match="sign in to Kiro again") as caught:
        await provider.send("anthropic", REQUEST, stream=False)

    assert "(400: bad grant for client-id: [redacted] / [redacted])" in caught.value.message


async def test_missing_credentials_are_a_clear_error(harness: Harness) -> None:
    provider = harness.provider(credentials=str(harness.tmp_path / "nope.json"))
    with pytest.raises(GatewayError, match=r"Kiro credentials: .*nope\.json does not exist"):
        await provider.send("anthropic", REQUEST, stream=False)


async def test_kiro_cli_database_oidc_refresh_and_write_back(harness: Harness) -> None:
    fake = harness.fake
    database = harness.tmp_path / "data.sqlite3"
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("CREATE TABLE auth_kv (key TEXT PRIMARY KEY, value TEXT)")
        token = {
            "access_token": "expired",
            "refresh_token": fake.refresh_token,
            "expires_at": format_expiry(NOW - 1),
            "region": "us-east-1",
        }
        registration = {"client_id": fake.client_id, "client_secret": fake.client_secret}
        for key, value in (
            ("kirocli:odic:token", token),
            ("kirocli:odic:device-registration", registration),
        ):
            connection.execute(
                "INSERT INTO auth_kv VALUES (?, ?)", (key, orjson.dumps(value).decode())
            )
    connection.close()

    provider = harness.provider(
        credentials=f"sqlite:{database}", refresh_url=fake.base_url + "/token"
    )
    await read_json(await provider.send("anthropic", REQUEST, stream=False))

    (refresh,) = fake.refreshes
    assert refresh.body == {
        "grantType": "refresh_token",
        "clientId": "client-id",
        "clientSecret": "client-secret",
        "refreshToken": "refresh-0",
    }
    assert "profileArn" not in fake.chats[0].body
    connection = sqlite3.connect(database)
    try:
        (value,) = connection.execute(
            "SELECT value FROM auth_kv WHERE key = 'kirocli:odic:token'"
        ).fetchone()
    finally:
        connection.close()
    assert orjson.loads(value) == {
        **token,
        "access_token": "access-1",
        "refresh_token": "refresh-1",
        "expires_at": format_expiry(NOW + 3600),
    }


async def test_a_refresh_token_from_the_environment(harness: Harness) -> None:
    fake = harness.fake
    provider = harness.provider(credentials="", environ={"KIRO_REFRESH_TOKEN": fake.refresh_token})
    await read_json(await provider.send("anthropic", REQUEST, stream=False))
    assert len(fake.refreshes) == 1
    assert fake.chats[0].body["profileArn"] == fake.profile_arn


async def test_silence_past_the_read_timeout_is_a_timeout(harness: Harness) -> None:
    harness.fake.queue(Stream(text_frames("slow"), hang=True))
    reply = await harness.provider(read_timeout=0.2).send("anthropic", REQUEST, stream=True)
    with pytest.raises(GatewayError) as caught:
        await collect(reply)
    assert (caught.value.error_type, caught.value.status) == ("timeout", 504)


async def test_an_unreachable_upstream_is_an_upstream_error(harness: Harness) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider = harness.provider(base_url=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(GatewayError, match="cannot connect") as caught:
        await provider.send("anthropic", REQUEST, stream=False)
    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)


async def test_only_anthropic_requests_are_accepted(harness: Harness) -> None:
    provider = harness.provider()
    assert provider.speaks == frozenset({"anthropic"})
    with pytest.raises(GatewayError) as caught:
        await provider.send("openai", REQUEST, stream=False)
    assert caught.value.error_type == "internal"


async def test_a_late_rejection_of_an_already_replaced_token_does_not_refresh_again(
    harness: Harness,
) -> None:
    harness.write_token("stale")
    auth = KiroAuth(
        lambda: TokenFile(harness.token_file),
        harness.session,
        region="us-east-1",
        refresh_url=harness.fake.base_url + "/refreshToken",
        timeout=aiohttp.ClientTimeout(total=5),
        user_agent="test",
        clock=lambda: NOW,
    )
    stale = await auth.token()
    fresh = await auth.refresh_after_rejection(stale)
    assert fresh.access_token == "access-1"
    assert await auth.refresh_after_rejection(stale) == fresh
    assert len(harness.fake.refreshes) == 1
    assert await auth.refresh_after_rejection(fresh) != fresh
    assert len(harness.fake.refreshes) == 2


async def test_a_token_kiro_refreshed_meanwhile_is_used_without_refreshing(
    harness: Harness,
) -> None:
    harness.write_token("expired", expires_at=NOW - 10)
    provider = harness.provider()
    harness.fake.refresh_failure = Failure(401, "Invalid refresh token")
    with pytest.raises(GatewayError, match="sign in to Kiro again"):
        await provider.send("anthropic", REQUEST, stream=False)

    # Kiro (or a new sign-in) writes a fresh token to the same file.
    harness.write_token(harness.fake.access_token, expires_at=LATER)
    await read_json(await provider.send("anthropic", REQUEST, stream=False))
    assert len(harness.fake.refreshes) == 1
    assert harness.fake.chats[-1].headers["Authorization"] == "Bearer access-0"


async def test_after_a_new_sign_in_the_new_refresh_token_is_used(harness: Harness) -> None:
    fake = harness.fake
    harness.token_file.write_bytes(
        orjson.dumps({"accessToken": "old", "refreshToken": "revoked", "expiresAt": 0})
    )
    provider = harness.provider()
    with pytest.raises(GatewayError, match="Invalid refresh token"):
        await provider.send("anthropic", REQUEST, stream=False)

    harness.write_token("also-expired", expires_at=NOW - 10)  # carries fake.refresh_token
    await read_json(await provider.send("anthropic", REQUEST, stream=False))
    assert [refresh.body["refreshToken"] for refresh in fake.refreshes] == ["revoked", "refresh-0"]
    assert harness.token_on_disk()["accessToken"] == "access-1"


def test_backoff_doubles_up_to_its_cap_and_jitters_downwards() -> None:
    backoff = Backoff(retries=9, base_s=1.0, cap_s=5.0)
    assert [backoff.delay(n, 0.0) for n in range(5)] == [0.5, 1.0, 2.0, 2.5, 2.5]
    assert [backoff.delay(n, 1.0) for n in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


async def test_a_credits_read_that_fails_quoting_the_token_does_not_pass_it_on(
    harness: Harness,
) -> None:
    token = harness.fake.access_token
    harness.fake.usage = Failure(500, f"internal error serving Bearer {token}")
    provider = harness.provider(usage_url=harness.fake.base_url + "/getUsageLimits")

    with pytest.raises(GatewayError) as failed:
        await provider.read_credits()

    assert failed.value.message == "Kiro answered internal error serving Bearer [redacted]"
