"""A hostile upstream cannot take a worker's memory, hold its connections, or leak its key."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.fakes.hostile_upstream import HostileUpstream
from tests.integration.test_errors import CHAT, assert_openai_error, chat_body
from tests.processes import RunningServer, running

LIMIT = 100_000
ROUTE_KEY = "sk-route-secret-1234567890"


@pytest.fixture(scope="module")
def upstream() -> Iterator[HostileUpstream]:
    with HostileUpstream() as fake:
        yield fake


@pytest.fixture(scope="module")
def gateway(
    upstream: HostileUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    config: Path = tmp_path_factory.mktemp("hostile") / "gateway.toml"
    config.write_text(
        f"""
[[models]]
name = "*"
provider = "openai"
base_url = "{upstream.url}/v1"
api_key = "{ROUTE_KEY}"
read_timeout = 30
max_response_bytes = {LIMIT}
"""
    )
    with running(["serve", "--config", str(config), "--port", "0"]) as server:
        yield server


def chat(gateway: RunningServer, model: str, **extra: object) -> httpx.Response:
    return httpx.post(gateway.base_url + CHAT, json=chat_body(model, **extra), timeout=30)


@pytest.mark.parametrize("kind", ["huge", "chunked"])
def test_a_body_past_max_response_bytes_is_a_502(gateway: RunningServer, kind: str) -> None:
    error = assert_openai_error(chat(gateway, f"{kind}-{10 * LIMIT}"), 502, "upstream")
    assert error["message"].startswith("upstream response too large")
    # Just under the limit is fine.
    assert chat(gateway, f"{kind}-{LIMIT - 100}").status_code == 200


def test_a_stream_event_past_max_response_bytes_ends_the_stream_with_an_error(
    gateway: RunningServer,
) -> None:
    with httpx.stream(
        "POST",
        gateway.base_url + CHAT,
        json=chat_body(f"bigevent-{10 * LIMIT}", stream=True),
        timeout=30,
    ) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[0].startswith('data: {"id":"c"')
    assert "upstream response too large" in lines[-1]
    assert gateway.wait_for_output("model=bigevent-")


def wait_until(condition: Callable[[], bool], what: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("stream", [False, True])
def test_clients_that_leave_cancel_their_requests_upstream(
    gateway: RunningServer, upstream: HostileUpstream, stream: bool
) -> None:
    model = "silent" if not stream else "stall"
    clients = [httpx.Client(base_url=gateway.base_url, timeout=0.5) for _ in range(20)]
    with ThreadPoolExecutor(len(clients)) as pool:
        outcomes = list(
            pool.map(
                lambda client: leave_after_a_while(client, chat_body(model, stream=stream)),
                clients,
            )
        )
    assert outcomes == ["left"] * len(clients)
    for client in clients:
        client.close()
    # Every upstream request was dropped, not left waiting for an answer no one reads.
    wait_until(lambda: upstream.open == 0, "the upstream saw every request go")
    wait_until(
        lambda: sum(f"model={model} status=499" in line for line in gateway.output) >= 20,
        "twenty requests logged as 499",
    )


def leave_after_a_while(client: httpx.Client, body: dict[str, object]) -> str:
    try:
        with client.stream("POST", CHAT, json=body) as response:
            for _ in response.iter_bytes():
                pass
    except httpx.ReadTimeout:
        return "left"
    return "answered"


def test_an_upstream_error_quoting_the_route_key_reaches_no_one_with_it(
    gateway: RunningServer,
) -> None:
    response = chat(gateway, "leaky-x")
    assert response.status_code == 401
    assert ROUTE_KEY not in response.text
    assert "Incorrect API key provided: [redacted]" in response.text
    gateway.wait_for_output("model=leaky-x status=401")
    assert not any(ROUTE_KEY in line for line in gateway.output)
