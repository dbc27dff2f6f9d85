"""Demo traffic: a living dashboard on a fresh machine, from the gateway itself.

``llm-gateway serve --dashboard --demo`` runs :func:`run_demo_traffic` against its own
listen address. With no config it uses :func:`demo_config`: every model goes to the
in-process simulator, whose directives in the model id (``+tokens=``, ``+tps=``,
``+delay=``, ``+status=``, ``+stall=``, ``+reset``) shape each reply. Each demo model is
a route with its own directives (its pace), so the model table shows a few clean names
while the request's ``max_tokens`` varies each reply's length. The traffic covers both
APIs, streaming and not, and every error type the gateway can be made to produce
legitimately:

- ``auth``: a wrong API key (the demo config names three clients' keys, ``sk-demo…``);
- ``validation``: a body that is not JSON, or one without ``messages``;
- ``upstream``: the simulator answering 500 (``demo-error+status=500``), or dropping the
  connection half-way (``demo-error+reset``);
- ``timeout``: ``demo-slow+stall=3000`` on the ``demo-slow*`` route, whose read timeout
  is 1 s;
- ``internal``: none; that would take a bug.

``claude-sonnet-4`` is a pool of three simulated upstreams, one of which always answers
503: the Upstreams panel shows it failing over and cooling down, unseen by the clients.

It sends a steady, modest stream with a burst every so often, keeps a bounded number of
requests in flight, and stops promptly (cancelling those) once ``stop`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp
import orjson

from llm_gateway.config import ClientKey, GatewayConfig, ModelRoute

DEMO_API_KEY = "sk-demo"


@dataclass(frozen=True, slots=True)
class DemoClient:
    label: str
    key: str
    weight: float
    """How often it sends, relative to the others."""


DEMO_CLIENTS = (
    DemoClient("alice", "sk-demo-alice", 5.0),
    DemoClient("ci-bot", "sk-demo-ci-bot", 3.0),
    DemoClient("demo", DEMO_API_KEY, 2.0),
)
"""The demo config's named keys: a few clients, so the Clients panel has rows to compare."""
DEMO_MODELS = {
    "gpt-4o-mini": "+tokens=300+tps=800+delay=40",
    "claude-sonnet-4": "+tokens=400+tps=250+delay=150",
    "llama-3.1-70b": "+tokens=300+tps=120+delay=80",
    "mistral-small": "+tokens=200+tps=1500+delay=15",
}
"""Each demo model and the simulator directives that give it its pace."""
POOLED_MODEL = "claude-sonnet-4"
"""The demo model served by a pool of three upstreams, one of them failing."""
SLOW_ROUTE = "demo-slow*"
SLOW_READ_TIMEOUT_S = 1.0

RATE_PER_S = 6.0
BURST_EVERY_S = 20.0
BURST_SIZE = 40
MAX_IN_FLIGHT = 64
REQUEST_TIMEOUT_S = 30.0

_WORDS = ("gateway", "latency", "token", "stream", "model", "upstream", "terminal", "chart")


def demo_config() -> GatewayConfig:
    """Every model to the simulator, ``demo-slow*`` with a short read timeout, keys ``sk-demo…``.

    The keys are named (:data:`DEMO_CLIENTS`), so the Clients panel shows their labels
    beside the ``(unauthenticated)`` requests of the wrong key.
    """
    paced = tuple(
        ModelRoute(name=name, provider="sim", model=name + directives)
        for name, directives in DEMO_MODELS.items()
        if name != POOLED_MODEL
    )
    # A pool, to show failover: two healthy upstreams take turns, a third keeps failing
    # and rests between tries.
    directives = DEMO_MODELS[POOLED_MODEL]
    pool = ModelRoute(
        name=POOLED_MODEL,
        provider="sim",
        strategy="round-robin",
        upstreams=tuple(
            ModelRoute(name=POOLED_MODEL, provider="sim", label=label, model=POOLED_MODEL + pace)
            for label, pace in (
                ("sim-east", directives),
                ("sim-west", directives),
                ("sim-flaky", "+status=503"),
            )
        ),
    )
    return GatewayConfig(
        models=(
            *paced,
            pool,
            ModelRoute(name=SLOW_ROUTE, provider="sim", read_timeout=SLOW_READ_TIMEOUT_S),
            ModelRoute(name="*", provider="sim"),
        ),
        keys=tuple(ClientKey(client.label, client.key) for client in DEMO_CLIENTS),
        source="built-in demo",
    )


def clients_for(config: GatewayConfig) -> tuple[DemoClient, ...]:
    """The demo clients whose keys ``config`` accepts; ``demo`` alone when it names none.

    Under a config of one's own the demo's traffic gets through with ``sk-demo`` added to
    its keys; the other demo keys need not be.
    """
    if not config.client_keys:
        return DEMO_CLIENTS
    accepted = {k.key for k in config.client_keys}
    return tuple(c for c in DEMO_CLIENTS if c.key in accepted) or tuple(
        c for c in DEMO_CLIENTS if c.key == DEMO_API_KEY
    )


@dataclass(frozen=True, slots=True)
class DemoRequest:
    path: str
    body: bytes
    headers: dict[str, str]
    stream: bool = False


def _prompt(rng: random.Random) -> str:
    return "Tell me about " + " ".join(rng.choices(_WORDS, k=rng.randint(3, 120)))


def _request(rng: random.Random, model: str, *, stream: bool, key: str) -> DemoRequest:
    """A well-formed chat request in one of the two APIs, picked at random."""
    messages = [{"role": "user", "content": _prompt(rng)}]
    max_tokens = rng.randint(8, 400)
    if rng.random() < 0.5:
        payload: dict[str, object] = {
            "model": model,
            "messages": messages,
            "max_tokens": max_tokens,
            "stream": stream,
        }
        if stream:
            payload["stream_options"] = {"include_usage": True}
        headers = {"authorization": f"Bearer {key}"}
        path = "/v1/chat/completions"
    else:
        payload = {"model": model, "messages": messages, "max_tokens": max_tokens, "stream": stream}
        headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
        path = "/v1/messages"
    headers["content-type"] = "application/json"
    return DemoRequest(path, orjson.dumps(payload), headers, stream)


def _model(rng: random.Random) -> str:
    return rng.choice(tuple(DEMO_MODELS))


def success(rng: random.Random, key: str) -> DemoRequest:
    return _request(rng, _model(rng), stream=rng.random() < 0.5, key=key)


def auth_error(rng: random.Random, key: str) -> DemoRequest:
    return _request(rng, _model(rng), stream=False, key="sk-wrong")


def malformed_body(rng: random.Random, key: str) -> DemoRequest:
    request = _request(rng, _model(rng), stream=False, key=key)
    return DemoRequest(request.path, request.body[: len(request.body) // 2], request.headers)


def missing_messages(rng: random.Random, key: str) -> DemoRequest:
    request = _request(rng, _model(rng), stream=False, key=key)
    payload = orjson.loads(request.body)
    del payload["messages"]
    return DemoRequest(request.path, orjson.dumps(payload), request.headers)


def upstream_status(rng: random.Random, key: str) -> DemoRequest:
    return _request(rng, "demo-error+status=500", stream=rng.random() < 0.5, key=key)


def upstream_reset(rng: random.Random, key: str) -> DemoRequest:
    return _request(rng, "demo-error+tokens=50+reset", stream=rng.random() < 0.5, key=key)


def upstream_timeout(rng: random.Random, key: str) -> DemoRequest:
    stall_ms = int(SLOW_READ_TIMEOUT_S * 3000)
    return _request(rng, f"demo-slow+stall={stall_ms}", stream=rng.random() < 0.5, key=key)


Kind = Callable[[random.Random, str], DemoRequest]
"""Makes one kind of request, sent with the given client key."""

MIX: tuple[tuple[Kind, float], ...] = (
    (success, 88.0),
    (auth_error, 2.0),
    (malformed_body, 1.5),
    (missing_messages, 1.5),
    (upstream_status, 2.0),
    (upstream_reset, 2.0),
    (upstream_timeout, 3.0),
)
"""Each kind of request and its weight; about one in eight is an error."""


def next_request(rng: random.Random, clients: Sequence[DemoClient] = DEMO_CLIENTS) -> DemoRequest:
    """A request of a kind picked by :data:`MIX`, from one of ``clients`` picked by weight."""
    kinds, weights = zip(*MIX, strict=True)
    kind: Kind = rng.choices(kinds, weights)[0]
    client = rng.choices(clients, [c.weight for c in clients])[0]
    return kind(rng, client.key)


async def send(session: aiohttp.ClientSession, request: DemoRequest) -> int:
    """Send ``request`` and read the whole reply (every event, when streaming); its status.

    Failures are the point of some demo requests, so a broken connection is a result
    (status 0), not an error.
    """
    try:
        async with session.post(request.path, data=request.body, headers=request.headers) as reply:
            async for _ in reply.content.iter_any():
                pass
            return reply.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


async def run_demo_traffic(
    base_url: str,
    stop: asyncio.Event,
    *,
    rate_per_s: float = RATE_PER_S,
    burst_every_s: float = BURST_EVERY_S,
    burst_size: int = BURST_SIZE,
    rng: random.Random | None = None,
    clients: Sequence[DemoClient] = DEMO_CLIENTS,
) -> None:
    """Send demo traffic to the gateway at ``base_url`` until ``stop`` is set.

    ``clients``: whose keys it sends, each by its weight (:func:`clients_for` picks those
    a config lets in).
    """
    rng = rng or random.Random()
    in_flight: set[asyncio.Task[int]] = set()
    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(base_url, timeout=timeout) as session:

        def launch(count: int) -> None:
            for _ in range(min(count, MAX_IN_FLIGHT - len(in_flight))):
                task = asyncio.create_task(send(session, next_request(rng, clients)))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)

        next_burst = loop.time() + burst_every_s
        try:
            while not stop.is_set():
                now = loop.time()
                if now >= next_burst:
                    launch(burst_size)
                    next_burst = now + burst_every_s
                else:
                    launch(1)
                # Jittered gaps look like real clients; waiting on ``stop`` ends at once.
                gap = rng.expovariate(rate_per_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), gap)
        finally:
            pending = list(in_flight)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
