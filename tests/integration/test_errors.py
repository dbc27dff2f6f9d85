"""Bad input and upstream faults: each gets the API's own error shape, the right status and
exactly one classification, which the gateway's access log states."""

from __future__ import annotations

import itertools
from typing import Any

import anthropic
import httpx
import openai
import pytest

from llm_gateway.errors import anthropic_error_type
from tests.integration.conftest import API_KEY
from tests.processes import RunningServer

_names = itertools.count()


def unique(prefix: str) -> str:
    """A model name seen in exactly one request, so its log line can be found."""
    return f"{prefix}{next(_names)}"


def access_line(gateway: RunningServer, model: str) -> str:
    return gateway.wait_for_output(f"model={model} status=")


def post(
    gateway: RunningServer, path: str, content: bytes | None = None, **kwargs: Any
) -> httpx.Response:
    headers = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
    headers.update(kwargs.pop("headers", {}))
    return httpx.post(
        gateway.base_url + path, content=content, headers=headers, timeout=30, **kwargs
    )


def assert_openai_error(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == error_type
    assert body["error"]["message"]
    return dict(body["error"])


def assert_anthropic_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert set(body["error"]) == {"type", "message"}
    assert body["error"]["message"]
    return dict(body["error"])


CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"


def chat_body(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}


def messages_body(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "hi"}],
        **extra,
    }


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content", "param"),
    [
        (CHAT, b"{not json", None),
        (CHAT, b"[1, 2]", None),
        (CHAT, b'{"messages": [{"role": "user", "content": "hi"}]}', "model"),
        (CHAT, b'{"model": "local-m"}', "messages"),
        (CHAT, b'{"model": "local-m", "messages": []}', "messages"),
        (
            CHAT,
            b'{"model": "local-m", "messages": [{"role": "robot", "content": "x"}]}',
            "messages[0].role",
        ),
        (
            CHAT,
            b'{"model": "local-m", "messages": [{"role": "user"}], "temperature": "hot"}',
            "temperature",
        ),
        (CHAT, b'{"model": "local-m", "messages": [{"role": "user"}], "stream": "yes"}', "stream"),
        (CHAT, b'{"model": 42, "messages": [{"role": "user"}]}', "model"),
    ],
)
def test_openai_validation(
    gateway: RunningServer, path: str, content: bytes, param: str | None
) -> None:
    error = assert_openai_error(post(gateway, path, content), 400, "validation")
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"model": "local-m", "messages": [{"role": "user", "content": "x"}]}',  # no max_tokens
        b'{"model": "local-m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}',
        b'{"model": "local-m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}',
        b'{"model": "local-m", "max_tokens": 5, "messages": "hi"}',
    ],
)
def test_anthropic_validation(gateway: RunningServer, content: bytes) -> None:
    error = assert_anthropic_error(post(gateway, MESSAGES, content), 400)
    assert error["type"] == "invalid_request_error"


def test_validation_message_names_field_and_problem(gateway: RunningServer) -> None:
    response = post(gateway, CHAT, json={"model": "local-m", "messages": []})
    error = assert_openai_error(response, 400, "validation")
    assert error["message"] == "'messages' must be a non-empty array; got an empty array"
    response = post(gateway, MESSAGES, json=messages_body("local-m", max_tokens="9"))
    assert assert_anthropic_error(response, 400)["message"] == (
        "'max_tokens' must be a positive integer; got string"
    )


def test_unknown_model(gateway: RunningServer) -> None:
    error = assert_openai_error(
        post(gateway, CHAT, json=chat_body("gpt-unknown")), 404, "validation"
    )
    assert "gpt-unknown" in error["message"]
    assert_anthropic_error(post(gateway, MESSAGES, json=messages_body("claude-unknown")), 404)


def test_oversized_body(gateway: RunningServer) -> None:
    big = chat_body("local-m", padding="x" * 300_000)
    assert_openai_error(post(gateway, CHAT, json=big), 413, "validation")
    assert_anthropic_error(
        post(gateway, MESSAGES, json=messages_body("local-m", padding="x" * 300_000)), 413
    )


def test_unknown_path_and_method(gateway: RunningServer) -> None:
    assert_openai_error(post(gateway, "/v1/embeddings", json={}), 404, "validation")
    response = httpx.get(gateway.base_url + CHAT, timeout=10)
    assert_openai_error(response, 405, "validation")


# --- auth -------------------------------------------------------------------------------


def test_missing_and_wrong_keys(gateway: RunningServer) -> None:
    no_key = httpx.post(gateway.base_url + CHAT, json=chat_body("local-m"), timeout=10)
    assert_openai_error(no_key, 401, "auth")
    wrong = post(
        gateway, CHAT, json=chat_body("local-m"), headers={"authorization": "Bearer sk-nope"}
    )
    assert_openai_error(wrong, 401, "auth")
    anthropic_wrong = httpx.post(
        gateway.base_url + MESSAGES,
        json=messages_body("local-m"),
        headers={"x-api-key": "sk-no"},
        timeout=10,
    )
    assert assert_anthropic_error(anthropic_wrong, 401)["type"] == "authentication_error"
    assert "sk-nope" not in "".join(gateway.output)


def test_both_key_headers_accepted(gateway: RunningServer) -> None:
    by_header = httpx.post(
        gateway.base_url + MESSAGES,
        json=messages_body("local-m"),
        headers={"x-api-key": API_KEY},
        timeout=10,
    )
    assert by_header.status_code == 200
    assert post(gateway, CHAT, json=chat_body("local-m")).status_code == 200
    assert API_KEY not in "".join(gateway.output)


def test_sdk_raises_authentication_errors(gateway: RunningServer) -> None:
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gateway.base_url + "/v1", api_key="bad", max_retries=0).models.list()
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(
            base_url=gateway.base_url, api_key="bad", max_retries=0
        ).messages.create(
            model="local-m", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )


# --- upstream faults, before the response starts ----------------------------------------

FAULTS = [
    # (model suffix, status, classification)
    ("+status=500", 500, "upstream"),
    ("+status=429", 429, "upstream"),
    ("+status=400", 400, "upstream"),
    ("+reset", 502, "upstream"),
    ("+garbage", 502, "upstream"),
]


@pytest.mark.parametrize("upstream", ["oa-", "an-", "local-"])
@pytest.mark.parametrize(("suffix", "status", "kind"), FAULTS)
def test_upstream_faults_openai_client(
    gateway: RunningServer, upstream: str, suffix: str, status: int, kind: str
) -> None:
    model = unique(upstream) + suffix
    # An Anthropic upstream's own error reaches an OpenAI client with its type as the code;
    # the gateway's classification is in the log.
    code = anthropic_error_type(status) if upstream == "an-" and "status" in suffix else kind
    assert_openai_error(post(gateway, CHAT, json=chat_body(model)), status, code)
    assert f"error={kind}" in access_line(gateway, model)


@pytest.mark.parametrize("upstream", ["oa-", "an-", "local-"])
@pytest.mark.parametrize(("suffix", "status", "kind"), FAULTS)
def test_upstream_faults_anthropic_client(
    gateway: RunningServer, upstream: str, suffix: str, status: int, kind: str
) -> None:
    model = unique(upstream) + suffix
    assert_anthropic_error(post(gateway, MESSAGES, json=messages_body(model)), status)
    assert f"error={kind}" in access_line(gateway, model)


def test_upstream_status_message_is_passed_on(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.chat.completions.create(
            model="oa-m+status=429", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == 429
    assert caught.value.message


def test_connection_refused(gateway: RunningServer) -> None:
    model = unique("dead-")
    error = assert_openai_error(post(gateway, CHAT, json=chat_body(model)), 502, "upstream")
    assert "connect" in error["message"]
    assert "error=upstream" in access_line(gateway, model)


def test_read_timeout_before_headers(gateway: RunningServer) -> None:
    model = unique("slow-") + "+delay=3000"
    assert_openai_error(post(gateway, CHAT, json=chat_body(model)), 504, "timeout")
    assert "error=timeout" in access_line(gateway, model)
    anthropic_model = unique("slow-") + "+delay=3000"
    assert assert_anthropic_error(post(gateway, MESSAGES, json=messages_body(anthropic_model)), 504)
    assert "error=timeout" in access_line(gateway, anthropic_model)


# --- upstream faults mid-stream ---------------------------------------------------------


def test_a_stream_longer_than_the_read_timeout_is_not_cut_while_it_keeps_coming(
    openai_client: openai.OpenAI, gateway: RunningServer
) -> None:
    # The slow- route's read timeout is 1 s; 8 tokens at 4 a second take 2 s, none 1 s apart.
    model = unique("slow-") + "+tokens=8+tps=4"
    stream = openai_client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "x"}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text
    line = access_line(gateway, model)
    assert "status=200" in line
    assert "error=" not in line


@pytest.mark.parametrize(
    ("upstream", "suffix", "kind"),
    [
        ("oa-", "+reset", "upstream"),
        ("an-", "+reset", "upstream"),
        ("local-", "+reset", "upstream"),
        ("oa-", "+garbage", "upstream"),
        ("an-", "+garbage", "upstream"),
        ("local-", "+garbage", "upstream"),
        ("slow-", "+stall=3000", "timeout"),
    ],
)
def test_mid_stream_faults(
    openai_client: openai.OpenAI,
    anthropic_client: anthropic.Anthropic,
    gateway: RunningServer,
    upstream: str,
    suffix: str,
    kind: str,
) -> None:
    model = unique(upstream) + "+tokens=40" + suffix
    with pytest.raises(openai.APIError):
        for _ in openai_client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "x"}], stream=True
        ):
            pass
    assert f"error={kind}" in access_line(gateway, model)

    model = unique(upstream) + "+tokens=40" + suffix
    with (
        pytest.raises(anthropic.APIError),
        anthropic_client.messages.stream(
            model=model, max_tokens=100, messages=[{"role": "user", "content": "x"}]
        ) as stream,
    ):
        for _ in stream:
            pass
    assert f"error={kind}" in access_line(gateway, model)
