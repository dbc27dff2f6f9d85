"""Parameters with no counterpart in the upstream's API: a 400 naming them, or, on a route
with ``drop_unsupported = true``, dropped with one log line per route and parameter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest

from tests.integration.conftest import API_KEY, gateway_config
from tests.processes import RunningServer, running

DROPPING_ROUTE = """
[[models]]
name = "drop-*"
provider = "anthropic"
base_url = "{sim_url}"
drop_unsupported = true
"""


@pytest.fixture(scope="module")
def dropping_gateway(
    sim_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    extra = DROPPING_ROUTE.format(sim_url=sim_server.base_url)
    path: Path = tmp_path_factory.mktemp("gateway") / "gateway.toml"
    path.write_text(gateway_config(sim_server.base_url, extra=extra))
    with running(["serve", "--config", str(path), "--port", "0"]) as server:
        yield server


@pytest.fixture
def client(dropping_gateway: RunningServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=dropping_gateway.base_url + "/v1", api_key=API_KEY, max_retries=0
    ) as client:
        yield client


def test_an_untranslatable_parameter_is_a_400_naming_it(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="an-m", messages=[{"role": "user", "content": "Hi"}], seed=7
        )

    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "seed"
    assert "drop_unsupported" in error["message"]


def test_an_anthropic_only_parameter_is_a_400_naming_it(
    dropping_gateway: RunningServer,
) -> None:
    with (
        anthropic.Anthropic(
            base_url=dropping_gateway.base_url, api_key=API_KEY, max_retries=0
        ) as client,
        pytest.raises(anthropic.BadRequestError, match="service_tier"),
    ):
        client.messages.create(
            model="oa-m",
            max_tokens=50,
            messages=[{"role": "user", "content": "Hi"}],
            service_tier="standard_only",
        )


def test_a_dropping_route_answers_and_logs_each_parameter_once(
    client: openai.OpenAI, dropping_gateway: RunningServer
) -> None:
    for _ in range(2):
        completion = client.chat.completions.create(
            model="drop-m",
            messages=[{"role": "user", "content": "Hi"}],
            seed=7,
            presence_penalty=0.5,
        )
        assert completion.choices[0].message.content

    dropping_gateway.wait_for_output("dropping 'presence_penalty'")
    dropped = [line for line in dropping_gateway.output if "route drop-*: dropping" in line]
    assert len(dropped) == 2
    assert any("'seed'" in line for line in dropped)
