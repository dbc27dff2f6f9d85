"""Which headers cross the gateway: the client's to the upstream, the upstream's back."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from llm_gateway.apis import Api
from llm_gateway.headers import forwarded_request_headers, returned_response_headers

CLAUDE_CODE = [
    ("host", "127.0.0.1:8000"),
    ("content-length", "512"),
    ("content-type", "application/json"),
    ("accept", "application/json"),
    ("accept-encoding", "gzip, deflate"),
    ("connection", "keep-alive"),
    ("user-agent", "claude-cli/2.0.0"),
    ("x-api-key", "sk-client"),
    ("authorization", "Bearer sk-client"),
    ("anthropic-version", "2023-06-01"),
    ("anthropic-beta", "context-1m-2025-08-07"),
    ("anthropic-beta", "interleaved-thinking-2025-05-14"),
    ("anthropic-dangerous-direct-browser-access", "true"),
    ("x-stainless-lang", "js"),
    ("x-stainless-retry-count", "0"),
    ("x-app", "cli"),
]


def test_an_anthropic_client_to_an_anthropic_upstream_keeps_its_api_headers() -> None:
    assert forwarded_request_headers(CLAUDE_CODE, "anthropic", "anthropic") == {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "context-1m-2025-08-07, interleaved-thinking-2025-05-14",
        "anthropic-dangerous-direct-browser-access": "true",
        "x-stainless-lang": "js",
        "x-stainless-retry-count": "0",
        "x-app": "cli",
    }


def test_an_anthropic_client_to_an_openai_upstream_keeps_only_what_means_something_there() -> None:
    assert forwarded_request_headers(CLAUDE_CODE, "anthropic", "openai") == {"x-app": "cli"}


OPENAI_SDK = [
    ("authorization", "Bearer sk-client"),
    ("openai-beta", "assistants=v2"),
    ("openai-organization", "org-1"),
    ("openai-project", "proj-1"),
    ("x-stainless-os", "Linux"),
    ("x-trace-id", "t-1"),
    ("anthropic-beta", "context-1m-2025-08-07"),
]


@pytest.mark.parametrize(
    ("upstream", "expected"),
    [
        (
            "openai",
            {
                "openai-beta": "assistants=v2",
                "openai-organization": "org-1",
                "openai-project": "proj-1",
                "x-stainless-os": "Linux",
                "x-trace-id": "t-1",
            },
        ),
        # An Anthropic beta means something to an Anthropic upstream, whoever asks for it.
        ("anthropic", {"x-trace-id": "t-1", "anthropic-beta": "context-1m-2025-08-07"}),
    ],
)
def test_an_openai_client(upstream: Api, expected: dict[str, str]) -> None:
    assert forwarded_request_headers(OPENAI_SDK, "openai", upstream) == expected


def test_a_responses_client_is_an_openai_sdk() -> None:
    forwarded = forwarded_request_headers(OPENAI_SDK, "responses", "openai")
    assert forwarded["x-stainless-os"] == "Linux"
    assert forwarded["openai-project"] == "proj-1"


@pytest.mark.parametrize(
    "name",
    [
        "x-api-key",
        "x-goog-api-key",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-real-ip",
        "x-http-method-override",
        "x-method-override",
        "transfer-encoding",
        "te",
        "upgrade",
        "proxy-authorization",
        "cookie",
    ],
)
def test_denied_and_hop_by_hop_headers_stay_behind(name: str) -> None:
    assert forwarded_request_headers([(name, "v")], "openai", "openai") == {}


def test_headers_named_in_connection_are_hop_by_hop() -> None:
    headers = [("connection", "keep-alive, X-Hop"), ("x-hop", "1"), ("x-kept", "2")]
    assert forwarded_request_headers(headers, "openai", "openai") == {"x-kept": "2"}


def test_the_useful_response_headers_come_back_in_lower_case() -> None:
    upstream = CIMultiDict(
        [
            ("Content-Type", "application/json"),
            ("Content-Length", "10"),
            ("Set-Cookie", "a=b"),
            ("Server", "upstream"),
            ("Retry-After", "7"),
            ("retry-after-ms", "7000"),
            ("x-should-retry", "true"),
            ("request-id", "req_1"),
            ("X-Request-ID", "abc"),
            ("anthropic-ratelimit-requests-remaining", "99"),
            ("x-ratelimit-remaining-tokens", "1000"),
            ("x-ratelimit-remaining-tokens", "999"),
            ("openai-processing-ms", "12"),
        ]
    )
    assert returned_response_headers(upstream) == [
        (b"retry-after", b"7"),
        (b"retry-after-ms", b"7000"),
        (b"x-should-retry", b"true"),
        (b"request-id", b"req_1"),
        (b"x-request-id", b"abc"),
        (b"anthropic-ratelimit-requests-remaining", b"99"),
        (b"x-ratelimit-remaining-tokens", b"1000"),
        (b"x-ratelimit-remaining-tokens", b"999"),
    ]
    assert returned_response_headers(None) == []
