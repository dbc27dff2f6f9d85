from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from llm_gateway.auth import OPEN, ApiKeys
from llm_gateway.config import ClientKey, ModelRoute, label_unnamed
from llm_gateway.errors import GatewayError
from llm_gateway.pools import Pool, Upstream
from llm_gateway.providers.sim import SimProvider
from llm_gateway.routing import Router

KEYS = [ClientKey("alice", "sk-1"), ClientKey("bob", "sk-2")]


def test_no_keys_means_no_auth_and_one_open_client() -> None:
    assert ApiKeys([]).check(Headers({})) == OPEN


@pytest.mark.parametrize(
    "headers",
    [{"authorization": "Bearer sk-2"}, {"authorization": "bearer  sk-2 "}, {"x-api-key": "sk-2"}],
)
def test_accepted_keys_name_their_client(headers: dict[str, str]) -> None:
    assert ApiKeys(KEYS).check(Headers(headers)) == "bob"


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
        ApiKeys(KEYS[:1]).check(Headers(headers))
    assert caught.value.error_type == "auth"
    assert caught.value.status == 401
    assert message in caught.value.message
    assert "sk-" not in caught.value.message


@pytest.mark.parametrize(
    ("keys", "labels"),
    [
        (("sk-local-0123456789a1b2",), ["key-…a1b2"]),
        # Never more than a quarter of a short key, and nothing of a tiny one.
        (("abcdefgh", "abc"), ["key-…gh", "key-…"]),
        # Keys that end alike are told apart by a count, not by more of the key.
        (
            ("sk-one-zzzz-a1b2", "sk-two-zzzz-a1b2", "sk-six-zzzz-a1b2"),
            ["key-…a1b2", "key-…a1b2#2", "key-…a1b2#3"],
        ),
    ],
)
def test_unnamed_keys_are_labelled_by_their_last_characters(
    keys: tuple[str, ...], labels: list[str]
) -> None:
    assert [k.label for k in label_unnamed(keys)] == labels
    assert [k.key for k in label_unnamed(keys)] == list(keys)


def test_an_unnamed_label_never_takes_a_named_one() -> None:
    labelled = label_unnamed(("sk-local-0123456789a1b2",), frozenset({"key-…a1b2"}))
    assert [k.label for k in labelled] == ["key-…a1b2#2"]


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
