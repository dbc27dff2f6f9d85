from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from llm_gateway.auth import ApiKeys
from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.pools import Pool, Upstream
from llm_gateway.providers.sim import SimProvider
from llm_gateway.routing import Router


def test_no_keys_means_no_auth() -> None:
    ApiKeys([]).check(Headers({}))


@pytest.mark.parametrize(
    "headers",
    [{"authorization": "Bearer sk-2"}, {"authorization": "bearer  sk-2 "}, {"x-api-key": "sk-2"}],
)
def test_accepted_keys(headers: dict[str, str]) -> None:
    ApiKeys(["sk-1", "sk-2"]).check(Headers(headers))


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing API key"),
        ({"authorization": "Basic sk-1"}, "Missing API key"),
        ({"authorization": "Bearer sk-3"}, "Invalid API key"),
        ({"x-api-key": "sk-1x"}, "Invalid API key"),
    ],
)
def test_rejected_keys(headers: dict[str, str], message: str) -> None:
    with pytest.raises(GatewayError) as caught:
        ApiKeys(["sk-1"]).check(Headers(headers))
    assert caught.value.error_type == "auth"
    assert caught.value.status == 401
    assert message in caught.value.message


def route(name: str) -> Pool:
    config = ModelRoute(name=name, provider="sim")
    return Pool(config, [Upstream(config, SimProvider(config))])


def test_exact_names_win_then_first_prefix() -> None:
    router = Router([route("claude-*"), route("claude-sonnet"), route("claude-s*"), route("*")])
    assert router.resolve("claude-sonnet").route.name == "claude-sonnet"
    assert router.resolve("claude-sonnet-4").route.name == "claude-*"
    assert router.resolve("gpt").route.name == "*"


def test_unknown_model_is_a_404_validation_error() -> None:
    with pytest.raises(GatewayError) as caught:
        Router([route("a")]).resolve("b")
    assert (caught.value.error_type, caught.value.status, caught.value.param) == (
        "validation",
        404,
        "model",
    )
