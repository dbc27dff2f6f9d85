"""Hostile input through a real gateway: each is answered in the API's shape, bounded, and
leaves nothing behind."""

from __future__ import annotations

import itertools
import re

import httpx
import orjson
import pytest

from llm_gateway.sim.engine import expected_usage
from llm_gateway.tokens import estimate_request_tokens
from llm_gateway.untrusted import MAX_JSON_DEPTH
from tests.integration.test_errors import (
    CHAT,
    MESSAGES,
    assert_anthropic_error,
    assert_openai_error,
    chat_body,
    messages_body,
    post,
)
from tests.processes import RunningServer


def deep_messages(levels: int) -> bytes:
    """A request body whose ``x_nested`` field takes it to ``levels`` levels in all."""
    inner = levels - 1
    return (
        b'{"model":"local-x","messages":[{"role":"user","content":"hi"}],"max_tokens":5,'
        + b'"x_nested":'
        + b"[" * inner
        + b"]" * inner
        + b"}"
    )


@pytest.mark.parametrize(("path", "check"), [(CHAT, "openai"), (MESSAGES, "anthropic")])
def test_json_nested_past_the_limit_is_a_400(gateway: RunningServer, path: str, check: str) -> None:
    response = post(gateway, path, deep_messages(1000))
    if check == "openai":
        error = assert_openai_error(response, 400, "validation")
    else:
        error = assert_anthropic_error(response, 400)
    assert f"deeper than {MAX_JSON_DEPTH} levels" in error["message"]


def test_json_at_the_depth_limit_is_served(gateway: RunningServer) -> None:
    response = post(gateway, MESSAGES, deep_messages(MAX_JSON_DEPTH))
    assert response.status_code == 200, response.text


def test_a_huge_unknown_model_name_is_cut_in_the_answer_and_the_log(
    gateway: RunningServer,
) -> None:
    model = "nope-" + "m" * 150_000
    response = post(gateway, CHAT, json=chat_body(model))
    error = assert_openai_error(response, 404, "validation")
    assert len(response.content) < 2000
    assert "more characters]" in error["message"]
    line = gateway.wait_for_output("model=nope-mmm")
    assert len(line) < 1000


@pytest.mark.parametrize("directive", ["tokens=1000000000", "delay=100000000"])
def test_simulator_directives_past_their_limit_are_a_400(
    gateway: RunningServer, directive: str
) -> None:
    response = post(gateway, MESSAGES, json=messages_body(f"local-x+{directive}"))
    error = assert_anthropic_error(response, 400)
    assert "must be at most" in error["message"]


def test_the_largest_simulated_stream_arrives_whole(gateway: RunningServer) -> None:
    body = chat_body("local-x+tokens=100000", stream=True, max_tokens=200000)
    with httpx.stream(
        "POST",
        gateway.base_url + CHAT,
        json=body,
        headers={"authorization": "Bearer sk-test-key"},
        timeout=60,
    ) as response:
        chunks = sum(1 for line in response.iter_lines() if line.startswith("data: {"))
    assert chunks == 100000 + 2


def test_the_largest_simulated_responses_stream_leaves_the_worker_free(
    gateway: RunningServer,
) -> None:
    """Made event by event as it is sent, like the other APIs' streams: while a client
    holds it open, the same worker answers, and the events arrive whole and in order."""
    body = {"model": "local-x+tokens=100000", "input": "hi", "stream": True}
    with httpx.stream(
        "POST",
        gateway.base_url + "/v1/responses",
        json=body,
        headers={"authorization": "Bearer sk-test-key"},
        timeout=60,
    ) as response:
        lines = response.iter_lines()
        assert next(lines) == "event: response.created"
        health = httpx.get(gateway.base_url + "/health", timeout=30)
        assert health.json() == {"status": "ok"}
        events = [orjson.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert len(deltas) == 100000
    (done,) = (e for e in events if e["type"] == "response.output_text.done")
    assert done["text"] == "".join(deltas)
    assert events[-1]["type"] == "response.completed"
    assert events[-1]["response"]["usage"]["output_tokens"] == 100000


def test_an_empty_x_api_key_does_not_hide_a_bearer_key(gateway: RunningServer) -> None:
    response = post(gateway, MESSAGES, json=messages_body("local-x"), headers={"x-api-key": ""})
    assert response.status_code == 200, response.text


def test_a_text_plain_body_is_not_taken_for_json(gateway: RunningServer) -> None:
    response = post(
        gateway, CHAT, orjson.dumps(chat_body("local-x")), headers={"content-type": "text/plain"}
    )
    error = assert_openai_error(response, 415, "validation")
    assert "application/json" in error["message"]


def test_a_request_that_cannot_be_translated_is_explained_without_python_internals(
    gateway: RunningServer,
) -> None:
    body = {"model": "an-x", "messages": [{"role": "user", "content": 5}]}
    error = assert_openai_error(post(gateway, CHAT, json=body), 400, "validation")
    assert error["message"].startswith("cannot translate request: a field has the wrong type")
    assert "object" not in error["message"]


def test_a_trailing_slash_is_not_redirected_to_the_clients_host(gateway: RunningServer) -> None:
    response = post(
        gateway, "/v1/messages/", json=messages_body("local-x"), headers={"host": "evil.example"}
    )
    assert_anthropic_error(response, 404)
    assert "location" not in response.headers


def cut_stream_tokens(
    gateway: RunningServer, name: str, status: int, error: str = ""
) -> tuple[int, int]:
    """The tokens the access line gives request ``name``, both checked to be marked ``~``."""
    line = gateway.wait_for_output(f"model={name} status={status}")
    assert error in line
    match = re.search(r"tokens=(~?)(\d+)/(~?)(\d+)", line)
    assert match, line
    assert match.group(1) == match.group(3) == "~", line
    return int(match.group(2)), int(match.group(4))


@pytest.mark.parametrize(("model", "path"), [("local-cut", CHAT), ("an-cut", MESSAGES)])
def test_a_stream_the_client_cancels_keeps_the_tokens_it_sent_as_estimates(
    gateway: RunningServer, model: str, path: str
) -> None:
    name = f"{model}{next(_cuts)}+tokens=400+tps=200"
    body = messages_body(name, stream=True) | {"max_tokens": 1000}
    with httpx.stream(
        "POST",
        gateway.base_url + path,
        json=body,
        headers={"authorization": "Bearer sk-test-key"},
        timeout=30,
    ) as response:
        lines = response.iter_lines()
        received = sum(1 for _, line in zip(range(100), lines, strict=False) if "delta" in line)
    input_tokens, output_tokens = cut_stream_tokens(gateway, name, 499)
    assert output_tokens >= received // 2 > 0
    if path == CHAT:
        # An OpenAI stream says its usage only at the end: the prompt is estimated.
        assert input_tokens == estimate_request_tokens("openai", body)
    else:
        # message_start said it.
        assert input_tokens == expected_usage("anthropic", body)[0]


@pytest.mark.parametrize(("model", "path"), [("oa-fail", CHAT), ("an-fail", MESSAGES)])
def test_a_stream_that_fails_midway_keeps_the_tokens_it_sent_as_estimates(
    gateway: RunningServer, model: str, path: str
) -> None:
    """The simulator resets the connection after half its events: the client got those."""
    name = f"{model}{next(_cuts)}+tokens=40+reset"
    body = messages_body(name, stream=True) | {"max_tokens": 1000}
    with httpx.stream(
        "POST",
        gateway.base_url + path,
        json=body,
        headers={"authorization": "Bearer sk-test-key"},
        timeout=30,
    ) as response:
        data = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert "error" in data[-1]
    delivered = sum(1 for line in data if "delta" in line)
    assert delivered >= 10
    # Its status was 200, sent before the failure; the line names the error.
    input_tokens, output_tokens = cut_stream_tokens(gateway, name, 200, "error=upstream")
    assert output_tokens == delivered
    if path == CHAT:
        assert input_tokens == estimate_request_tokens("openai", body)
    else:
        assert input_tokens == expected_usage("anthropic", body)[0]


_cuts = itertools.count()
