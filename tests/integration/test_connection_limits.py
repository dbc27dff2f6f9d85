"""Slow, oversized and too many connections against a real worker, and their counts on the
dashboard's snapshot.

The supervisor runs on the test's loop (as in ``test_workers``), so the test reads the same
snapshot the dashboard draws; the worker is a real process.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable

import orjson
import pytest

from llm_gateway.config import ConnectionLimits, GatewayConfig, ModelRoute
from llm_gateway.server import bind_socket
from llm_gateway.supervisor import ServeOptions, Supervisor
from tests.integration.test_workers import until

KEY = "sk-test"


async def start(limits: ConnectionLimits) -> tuple[Supervisor, asyncio.Task[int]]:
    config = GatewayConfig(
        models=(ModelRoute(name="*", provider="sim"),), api_keys=(KEY,), connections=limits
    )
    listener = bind_socket("127.0.0.1", 0)
    supervisor = Supervisor(ServeOptions(config=config, workers=1, grace_period_s=2.0), listener)
    running = asyncio.create_task(supervisor.run())
    await until(lambda: supervisor.serving.is_set() or running.done(), "the worker serves")
    assert not running.done(), "the supervisor stopped during start-up"
    return supervisor, running


@pytest.fixture
async def quick() -> AsyncIterator[Supervisor]:
    """Half a second for headers, and between pieces of a body; 4 KiB of headers."""
    limits = ConnectionLimits(header_timeout_s=0.5, body_timeout_s=0.5, max_header_bytes=4096)
    supervisor, running = await start(limits)
    yield supervisor
    supervisor.stop()
    assert await asyncio.wait_for(running, 30) == 0


@pytest.fixture
async def capped() -> AsyncIterator[Supervisor]:
    supervisor, running = await start(ConnectionLimits(max_connections=4))
    yield supervisor
    supervisor.stop()
    assert await asyncio.wait_for(running, 30) == 0


async def connect(
    supervisor: Supervisor,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = supervisor.listen_url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def closed_by_server(reader: asyncio.StreamReader, within: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection."""
    return await asyncio.wait_for(reader.read(), within)


def status_and_json(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), orjson.loads(body)


async def snapshot_shows(supervisor: Supervisor, what: Callable[..., bool], name: str) -> None:
    await until(lambda: what(supervisor.snapshot().connections), name)


def assert_request_timeout(answer: bytes, said: str) -> dict[str, object]:
    """A 408 saying ``said``, that says the connection closes: the client learns why."""
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert b"\r\nconnection: close" in head
    status, reply = status_and_json(answer)
    assert status == 408
    assert said in str(reply["error"])
    return reply


async def test_a_request_line_that_never_ends_gets_a_408_and_is_closed(quick: Supervisor) -> None:
    reader, writer = await connect(quick)
    writer.write(b"POST /v1/chat/comp")
    reply = assert_request_timeout(
        await closed_by_server(reader), "request line and headers did not arrive within 0.5 s"
    )
    assert reply["error"]["code"] == "timeout"  # type: ignore[index]
    writer.close()
    await snapshot_shows(quick, lambda c: c.closed_slow == 1, "one closed for slowness")


async def test_headers_that_never_end_get_a_408_in_the_api_shape(quick: Supervisor) -> None:
    reader, writer = await connect(quick)
    writer.write(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-ke")
    reply = assert_request_timeout(await closed_by_server(reader), "did not arrive within")
    assert reply["type"] == "error"
    writer.close()
    await snapshot_shows(quick, lambda c: c.closed_slow == 1, "one closed for slowness")


async def test_a_body_that_stops_coming_gets_a_408_and_is_closed(quick: Supervisor) -> None:
    reader, writer = await connect(quick)
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    assert_request_timeout(
        await closed_by_server(reader), "request body stopped arriving for 0.5 s"
    )
    writer.close()
    await snapshot_shows(quick, lambda c: c.closed_slow == 1, "one closed for slowness")
    # The request itself saw its client go: it is logged as 499, as before.
    await until(lambda: quick.snapshot().client_closed_total == 1, "the request counted as 499")


async def test_a_body_that_keeps_coming_is_not_cut(quick: Supervisor) -> None:
    body = orjson.dumps(
        {"model": "sim", "messages": [{"role": "user", "content": "x" * 20}], "max_tokens": 5}
    )
    reader, writer = await connect(quick)
    writer.write(
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: sk-test\r\nConnection: close\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    # Slower than the body timeout in all, but never silent for that long.
    for start in range(0, len(body), 10):
        writer.write(body[start : start + 10])
        await asyncio.sleep(0.1)
    status, reply = status_and_json(await closed_by_server(reader))
    assert status == 200, reply
    writer.close()


@pytest.mark.parametrize("pieces", [1, 200])
async def test_headers_past_the_limit_get_a_431_in_the_api_shape(
    quick: Supervisor, pieces: int
) -> None:
    reader, writer = await connect(quick)
    header = b"X-Big: " + b"a" * 20_000 + b"\r\n"
    request = b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n"
    size = len(request) // pieces + 1
    for start in range(0, len(request), size):
        writer.write(request[start : start + size])
        await writer.drain()
    status, reply = status_and_json(await closed_by_server(reader))
    assert status == 431
    assert reply["type"] == "error"
    assert "larger than the limit of 4096 bytes" in str(reply["error"])
    writer.close()


async def test_a_duplicate_content_length_gets_a_400_in_the_api_shape(quick: Supervisor) -> None:
    reader, writer = await connect(quick)
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    )
    status, reply = status_and_json(await closed_by_server(reader))
    assert status == 400
    assert "Duplicate Content-Length" in str(reply["error"])
    writer.close()


async def test_connections_past_the_cap_get_a_503_and_are_counted(capped: Supervisor) -> None:
    held = [await connect(capped) for _ in range(4)]
    await snapshot_shows(capped, lambda c: c.open == 4, "four open connections")
    reader, writer = await connect(capped)
    status, reply = status_and_json(await closed_by_server(reader))
    assert status == 503
    assert "too many open connections" in str(reply["error"])
    writer.close()
    await snapshot_shows(capped, lambda c: c.refused == 1, "one refused")
    logged = capped.log_reader(back=10_000).read().records()
    assert any("its cap of 4 open connections" in line.message for line in logged)
    for _, held_writer in held:
        held_writer.close()
    await snapshot_shows(capped, lambda c: c.open == 0, "the held connections closed")
    reader, writer = await connect(capped)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await closed_by_server(reader)).startswith(b"HTTP/1.1 200")
    writer.close()


def post_with_urllib(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"content-type": "application/json", "x-api-key": KEY}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def test_urllib_writing_a_body_too_large_reads_the_413(quick: Supervisor) -> None:
    """urllib writes the whole body before it reads: the answer must survive that."""
    body = b"x" * (11 * 1024 * 1024)
    url = quick.listen_url + "/v1/chat/completions"
    status, reply = await asyncio.to_thread(post_with_urllib, url, body)
    assert status == 413
    assert b"larger than the limit" in reply


async def test_urllib_without_a_key_reads_the_401(quick: Supervisor) -> None:
    request = urllib.request.Request(
        quick.listen_url + "/v1/messages", data=b"x" * (4 * 1024 * 1024)
    )

    def post() -> int:
        try:
            urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as error:
            return error.code
        return 200

    assert await asyncio.to_thread(post) == 401
