"""Pools through a real gateway process: failover, what is never retried, rests, spreading.

The failing upstreams are the simulator (over HTTP, and in-process) told to fail with its
``+status=``, ``+delay=`` and ``+reset`` directives, and a port where nothing listens.
Each pool serves one test, so one test's rests never leak into another's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from tests.integration.conftest import API_KEY, closed_port, serving
from tests.processes import RunningServer

STATUSES = (429, 500, 502, 503, 504, 529)
REFUSED = (401, 403)  # an API key is not refreshed: a refusal persists


def pool(name: str, bad: str, *, extra: str = "", ok: str = 'provider = "sim"') -> str:
    return f"""
[[models]]
name = "{name}"
{extra}
  [[models.upstreams]]
  label = "bad"
  {bad}

  [[models.upstreams]]
  label = "ok"
  {ok}
"""


def pools_config(sim_url: str) -> str:
    http_sim = f'provider = "openai"\n  base_url = "{sim_url}/v1"'
    entries = [f'api_keys = ["{API_KEY}"]']
    entries += [
        pool(f"fo-{s}", f'{http_sim}\n  model = "m+status={s}"') for s in (*STATUSES, *REFUSED)
    ]
    entries += [
        pool(
            "fo-connect",
            f'provider = "anthropic"\n  base_url = "http://127.0.0.1:{closed_port()}"',
        ),
        pool("fo-timeout", 'provider = "sim"\n  model = "m+delay=5000"\n  read_timeout = 0.3'),
        pool("no-retry-400", f'{http_sim}\n  model = "m+status=400"'),
        pool("no-retry-stream", 'provider = "sim"\n  model = "m+tokens=40+reset"'),
        pool(
            "resting",
            'provider = "sim"\n  model = "m+status=503"\n  cooldown = 120',
            ok='provider = "sim"\n  model = "m+status=503"\n  cooldown = 300',
        ),
        pool(
            "spread",
            'provider = "sim"\n  weight = 1',
            extra='strategy = "round-robin"',
            ok='provider = "sim"\n  weight = 3',
        ),
    ]
    entries.append(
        f"""
[[models]]
name = "busy-*"
strategy = "least-busy"
  [[models.upstreams]]
  label = "one"
  {http_sim}
  [[models.upstreams]]
  label = "two"
  {http_sim}
"""
    )
    return "\n".join(entries)


@pytest.fixture(scope="module")
def gateway(
    sim_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with serving(pools_config(sim_server.base_url), tmp_path_factory) as server:
        yield server


def access_line(gateway: RunningServer, model: str) -> str:
    return gateway.wait_for_output(f"model={model} status=")


def ask(client: openai.OpenAI, model: str) -> str:
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hello"}]
    )
    return reply.choices[0].message.content or ""


@pytest.mark.parametrize("cause", [*(str(s) for s in (*STATUSES, *REFUSED)), "connect", "timeout"])
def test_a_failing_upstream_fails_over_unseen(
    openai_client: openai.OpenAI, gateway: RunningServer, cause: str
) -> None:
    model = f"fo-{cause}"
    assert ask(openai_client, model)
    line = access_line(gateway, model)
    assert "status=200" in line
    assert "upstream=ok attempts=2" in line
    assert "error=" not in line
    gateway.wait_for_output(f"model={model} upstream=bad failed")
    # The failed upstream rests: the next request goes straight to the healthy one.
    assert ask(openai_client, model)
    gateway.wait_for_lines(f"model={model} status=200 .* upstream=ok attempts=1", 1)


def test_the_clients_own_error_is_not_retried(
    openai_client: openai.OpenAI, gateway: RunningServer
) -> None:
    with pytest.raises(openai.BadRequestError):
        ask(openai_client, "no-retry-400")
    line = access_line(gateway, "no-retry-400")
    assert "status=400" in line and "upstream=bad attempts=1" in line


def test_nothing_is_retried_after_the_first_byte(gateway: RunningServer) -> None:
    with anthropic.Anthropic(base_url=gateway.base_url, api_key=API_KEY, max_retries=0) as sdk:
        text: list[str] = []
        with (
            pytest.raises(anthropic.APIError),
            sdk.messages.stream(
                model="no-retry-stream",
                max_tokens=100,
                messages=[{"role": "user", "content": "hi"}],
            ) as stream,
        ):
            for piece in stream.text_stream:
                text.append(piece)
    line = access_line(gateway, "no-retry-stream")
    assert "upstream=bad attempts=1 error=upstream" in line
    # One answer cut short, not two spliced together: fewer words than the 40 planned.
    assert 0 < len("".join(text).split()) < 40


def test_when_every_upstream_rests_the_client_gets_429_with_retry_after(
    gateway: RunningServer,
) -> None:
    url = gateway.base_url + "/v1/chat/completions"
    headers = {"authorization": f"Bearer {API_KEY}"}
    body = {"model": "resting", "messages": [{"role": "user", "content": "hi"}]}
    first = httpx.post(url, json=body, headers=headers, timeout=30)
    assert first.status_code == 503  # both failed: the last one's own error
    rested = httpx.post(url, json=body, headers=headers, timeout=30)
    assert rested.status_code == 429
    assert 115 <= int(rested.headers["retry-after"]) <= 120
    error = rested.json()["error"]
    assert error["type"] == "rate_limit_error"
    assert "'resting'" in error["message"] and "resting" in error["message"]


def test_round_robin_spreads_a_thousand_requests_by_weight(gateway: RunningServer) -> None:
    body = b'{"model":"spread","messages":[{"role":"user","content":"hi"}],"max_tokens":1}'
    headers = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
    with httpx.Client(base_url=gateway.base_url, headers=headers, timeout=30) as http:
        for _ in range(1000):
            assert http.post("/v1/chat/completions", content=body).status_code == 200
    found = gateway.wait_for_lines(r"model=spread status=200 .* upstream=(\w+) attempts=1", 1000)
    labels = [m.group(1) for m in found]
    assert 225 <= labels.count("bad") <= 275
    assert 675 <= labels.count("ok") <= 825


def test_least_busy_sends_each_request_to_the_upstream_with_fewer_in_flight(
    gateway: RunningServer,
) -> None:
    """Slow streams, held open, make one upstream busier than the other; quick requests
    then all go to the other one, which neither failover nor round-robin would do."""
    headers = {"authorization": f"Bearer {API_KEY}"}
    served = 0
    reading: list[Iterator[str]] = []

    def quick(http: httpx.Client) -> str:
        """A quick request; the upstream that served it, once its attempt is over."""
        nonlocal served
        body = {"model": "busy-quick+tokens=1", "messages": [{"role": "user", "content": "hi"}]}
        assert http.post("/v1/chat/completions", json=body).status_code == 200
        served += 1
        pattern = r"model=busy-quick\+tokens=1 status=200 .* upstream=(\w+) attempts=1"
        return gateway.wait_for_lines(pattern, served)[-1].group(1)

    with (
        contextlib.ExitStack() as held,
        httpx.Client(base_url=gateway.base_url, headers=headers, timeout=30) as http,
    ):

        def hold(n: int) -> None:
            """A slow stream, in flight (its first event read) until the test ends."""
            body = {
                "model": f"busy-hold{n}+tokens=1000+tps=10",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": True,
            }
            response = held.enter_context(http.stream("POST", "/v1/chat/completions", json=body))
            lines = response.iter_lines()
            assert next(lines).startswith("data: ")
            # Dropped, the iterator would close the connection: the client would leave.
            reading.append(lines)

        hold(1)  # one: 1, two: 0 (a tie goes to the first)
        assert [quick(http) for _ in range(3)] == ["two"] * 3
        hold(2)  # two: 1
        hold(3)  # one: 2
        assert [quick(http) for _ in range(3)] == ["two"] * 3
    # The clients left: the held streams name where they were.
    for n, label in ((1, "one"), (2, "two"), (3, "one")):
        line = gateway.wait_for_output(f"model=busy-hold{n}+tokens=1000+tps=10 status=499")
        assert f"upstream={label} attempts=1" in line
