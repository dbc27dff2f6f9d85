"""Real processes for the integration tests: a simulator upstream and gateways in front of it.

The simulator (``llm-gateway sim``) runs once per session. A gateway routes model names
by prefix to every kind of upstream, so one gateway serves all four client/upstream
pairings:

- ``oa-...``  -> the simulator over HTTP, as an OpenAI upstream
- ``an-...``  -> the simulator over HTTP, as an Anthropic upstream
- ``slow-...`` -> the simulator over HTTP as an OpenAI upstream, with a 1 s read timeout
- ``dead-...`` -> a port where nothing listens
- ``local-...`` -> the in-process simulator
- anything else is an unknown model
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anthropic
import openai
import pytest

from tests.processes import RunningServer, running

API_KEY = "sk-test-key"


@pytest.fixture(scope="session")
def sim_server() -> Iterator[RunningServer]:
    with running(["sim", "--host", "127.0.0.1", "--port", "0"]) as server:
        yield server


def closed_port() -> int:
    """A port that was free a moment ago and that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def gateway_config(sim_url: str, *, api_keys: tuple[str, ...] = (API_KEY,), extra: str = "") -> str:
    keys = ", ".join(f'"{k}"' for k in api_keys)
    return f"""
api_keys = [{keys}]
max_body_bytes = 200000

[[models]]
name = "oa-*"
provider = "openai"
base_url = "{sim_url}/v1"
api_key = "sk-upstream"

[[models]]
name = "an-*"
provider = "anthropic"
base_url = "{sim_url}"
api_key = "sk-upstream"

[[models]]
name = "slow-*"
provider = "openai"
base_url = "{sim_url}/v1"
read_timeout = 1

[[models]]
name = "dead-*"
provider = "anthropic"
base_url = "http://127.0.0.1:{closed_port()}"
connect_timeout = 2
{extra}
[[models]]
name = "local-*"
provider = "sim"
"""


@contextmanager
def serving(config: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A gateway process serving ``config`` (TOML text) for the ``with`` block."""
    path: Path = tmp_path_factory.mktemp("gateway") / "gateway.toml"
    path.write_text(config)
    with running(["serve", "--config", str(path), "--port", "0"]) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(
    sim_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with serving(gateway_config(sim_server.base_url), tmp_path_factory) as server:
        yield server


@pytest.fixture
def openai_client(gateway: RunningServer) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=API_KEY, max_retries=0)
    yield client
    client.close()


@pytest.fixture
def anthropic_client(gateway: RunningServer) -> Iterator[anthropic.Anthropic]:
    client = anthropic.Anthropic(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    yield client
    client.close()
