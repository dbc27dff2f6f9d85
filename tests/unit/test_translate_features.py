"""Request translation of what modern clients depend on: thinking, caching, structured
output, token limits, documents, refusals, empty turns, the legacy function role, and the
parameters that have no counterpart."""

from __future__ import annotations

from typing import Any

import pytest

from llm_gateway.errors import GatewayError
from llm_gateway.translate import anthropic_request_to_openai, openai_request_to_anthropic
from llm_gateway.translate.options import RouteOptions
from llm_gateway.translate.requests import drops_thinking, json_prefill
from llm_gateway.translate.unsupported import untranslatable

PDF = "JVBERi0xLjQK"
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
EPHEMERAL = {"type": "ephemeral"}
HI = {"role": "user", "content": "Hi"}


def to_anthropic(
    messages: list[dict[str, Any]], options: RouteOptions | None = None, **params: Any
) -> dict[str, Any]:
    body = {"model": "claude-sonnet-4-5", "messages": messages, **params}
    return openai_request_to_anthropic(body, options or RouteOptions())


def to_openai(
    messages: list[dict[str, Any]],
    options: RouteOptions | None = None,
    model: str = "gpt-4o",
    **params: Any,
) -> dict[str, Any]:
    body = {"model": model, "max_tokens": 1000, "messages": messages, **params}
    return anthropic_request_to_openai(body, options or RouteOptions())


# Thinking and reasoning


@pytest.mark.parametrize(
    ("effort", "thinking"),
    [
        ("minimal", {"type": "enabled", "budget_tokens": 1024}),
        ("low", {"type": "enabled", "budget_tokens": 4000}),
        ("medium", {"type": "enabled", "budget_tokens": 10_000}),
        ("high", {"type": "enabled", "budget_tokens": 24_000}),
        ("none", None),
    ],
)
def test_reasoning_effort_becomes_a_thinking_budget(
    effort: str, thinking: dict[str, Any] | None
) -> None:
    assert to_anthropic([HI], reasoning_effort=effort).get("thinking") == thinking


def test_thinking_budget_stays_below_a_smaller_client_limit() -> None:
    translated = to_anthropic([HI], reasoning_effort="high", max_completion_tokens=5000)

    assert translated["thinking"] == {"type": "enabled", "budget_tokens": 4999}


@pytest.mark.parametrize("limit", [1, 1000, 1024])
def test_a_limit_with_no_room_for_the_smallest_budget_sends_no_thinking(limit: int) -> None:
    # Anthropic wants 1024 <= budget_tokens < max_tokens; the client's limit stays.
    translated = to_anthropic([HI], reasoning_effort="low", max_completion_tokens=limit)

    assert "thinking" not in translated
    assert translated["max_tokens"] == limit


def test_the_smallest_budget_fits_a_limit_just_above_it() -> None:
    translated = to_anthropic([HI], reasoning_effort="minimal", max_tokens=1025)

    assert translated["thinking"] == {"type": "enabled", "budget_tokens": 1024}


def test_an_unknown_reasoning_effort_is_refused() -> None:
    with pytest.raises(GatewayError, match="reasoning_effort must be one of") as caught:
        to_anthropic([HI], reasoning_effort="extreme")

    assert caught.value.param == "reasoning_effort"


WEATHER = {"type": "function", "function": {"name": "weather", "parameters": SCHEMA}}


@pytest.mark.parametrize(
    ("choice", "anthropic_choice"),
    [
        ("required", {"type": "any"}),
        (
            {"type": "function", "function": {"name": "weather"}},
            {"type": "tool", "name": "weather"},
        ),
    ],
)
def test_a_forced_tool_sends_no_thinking(choice: Any, anthropic_choice: dict[str, Any]) -> None:
    # Anthropic refuses thinking unless tool_choice is auto or none.
    translated = to_anthropic([HI], reasoning_effort="low", tools=[WEATHER], tool_choice=choice)

    assert "thinking" not in translated
    assert translated["tool_choice"] == anthropic_choice
    assert drops_thinking({"reasoning_effort": "low", "tools": [WEATHER], "tool_choice": choice})


def test_a_forced_legacy_function_sends_no_thinking() -> None:
    function = WEATHER["function"]
    translated = to_anthropic(
        [HI], reasoning_effort="low", functions=[function], function_call={"name": "weather"}
    )

    assert "thinking" not in translated


@pytest.mark.parametrize("choice", ["auto", "none", None])
def test_a_tool_left_to_the_model_keeps_thinking(choice: str | None) -> None:
    params: dict[str, Any] = {"reasoning_effort": "low", "tools": [WEATHER], "tool_choice": choice}
    translated = to_anthropic([HI], **params)

    assert translated["thinking"] == {"type": "enabled", "budget_tokens": 4000}
    assert not drops_thinking(params)


def test_signed_thinking_blocks_go_back_to_anthropic_before_the_text() -> None:
    assistant = {
        "role": "assistant",
        "content": "Paris.",
        "reasoning_content": "Paris is in France.",
        "thinking_blocks": [
            {"index": 0, "type": "thinking", "thinking": "Paris is in France.", "signature": "c2"},
            {"type": "redacted_thinking", "data": "ZW5j"},
        ],
    }

    translated = to_anthropic([HI, assistant, {"role": "user", "content": "Sure?"}])

    assert translated["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Paris is in France.", "signature": "c2"},
            {"type": "redacted_thinking", "data": "ZW5j"},
            {"type": "text", "text": "Paris."},
        ],
    }


def test_unsigned_reasoning_is_not_sent_to_anthropic() -> None:
    assistant = {"role": "assistant", "content": "Paris.", "reasoning_content": "Hmm."}

    translated = to_anthropic([HI, assistant, {"role": "user", "content": "Sure?"}])

    assert translated["messages"][1] == {"role": "assistant", "content": "Paris."}


@pytest.mark.parametrize(
    ("params", "effort"),
    [
        ({"thinking": {"type": "enabled", "budget_tokens": 1024}}, "low"),
        ({"thinking": {"type": "enabled", "budget_tokens": 4000}}, "low"),
        ({"thinking": {"type": "enabled", "budget_tokens": 10_000}}, "medium"),
        ({"thinking": {"type": "enabled", "budget_tokens": 24_000}}, "high"),
        ({"thinking": {"type": "adaptive"}}, None),
        ({"thinking": {"type": "disabled"}}, None),
        ({"output_config": {"effort": "max"}}, "high"),
        ({"output_config": {"effort": "low"}, "thinking": {"type": "adaptive"}}, "low"),
    ],
)
def test_thinking_becomes_reasoning_effort_on_reasoning_models(
    params: dict[str, Any], effort: str | None
) -> None:
    translated = to_openai([HI], model="o3", **params)

    assert translated.get("reasoning_effort") == effort
    assert translated["max_completion_tokens"] == 1000
    assert "max_tokens" not in translated


def test_thinking_is_not_sent_to_a_model_that_does_not_reason() -> None:
    translated = to_openai([HI], thinking={"type": "enabled", "budget_tokens": 4000})

    assert "reasoning_effort" not in translated
    assert translated["max_tokens"] == 1000


@pytest.mark.parametrize(
    ("model", "reasoning_model", "field"),
    [
        ("o4-mini", None, "max_completion_tokens"),
        ("openai/gpt-5", None, "max_completion_tokens"),
        ("gpt-4.1", None, "max_tokens"),
        ("gpt-4.1", True, "max_completion_tokens"),
        ("o3", False, "max_tokens"),
    ],
)
def test_reasoning_models_get_max_completion_tokens_unless_the_route_says_otherwise(
    model: str, reasoning_model: bool | None, field: str
) -> None:
    translated = to_openai([HI], RouteOptions(reasoning_model=reasoning_model), model=model)

    assert translated[field] == 1000


def test_only_unsigned_thinking_goes_to_an_openai_upstream_as_reasoning_content() -> None:
    assistant = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "From vLLM.", "signature": ""},
            {"type": "thinking", "thinking": "From Claude.", "signature": "c2"},
            {"type": "redacted_thinking", "data": "ZW5j"},
            {"type": "text", "text": "Paris."},
        ],
    }

    translated = to_openai([HI, assistant, {"role": "user", "content": "Sure?"}])

    assert translated["messages"][1] == {
        "role": "assistant",
        "content": "Paris.",
        "reasoning_content": "From vLLM.",
    }


# Caching


def test_cache_control_stays_on_system_parts_content_parts_and_tools() -> None:
    messages: list[dict[str, Any]] = [
        {
            "role": "system",
            "content": [{"type": "text", "text": "Long rules.", "cache_control": EPHEMERAL}],
        },
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Long document.", "cache_control": EPHEMERAL},
                {"type": "text", "text": "Question?"},
            ],
        },
    ]
    tools = [{"type": "function", "function": {"name": "now"}, "cache_control": EPHEMERAL}]

    translated = to_anthropic(messages, tools=tools)

    assert translated["system"] == [
        {"type": "text", "text": "Long rules.", "cache_control": EPHEMERAL}
    ]
    assert translated["messages"][0]["content"] == [
        {"type": "text", "text": "Long document.", "cache_control": EPHEMERAL},
        {"type": "text", "text": "Question?"},
    ]
    assert translated["tools"][0]["cache_control"] == EPHEMERAL


def test_cache_control_on_a_message_goes_on_its_last_block() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Long rules.", "cache_control": EPHEMERAL},
        {"role": "user", "content": "Hi", "cache_control": EPHEMERAL},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "now", "arguments": "{}"}}
            ],
            "cache_control": EPHEMERAL,
        },
        {"role": "tool", "tool_call_id": "c1", "content": "noon", "cache_control": EPHEMERAL},
    ]

    translated = to_anthropic(messages)

    assert translated["system"] == [
        {"type": "text", "text": "Long rules.", "cache_control": EPHEMERAL}
    ]
    assert translated["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": EPHEMERAL}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": "c1",
                    "name": "now",
                    "input": {},
                    "cache_control": EPHEMERAL,
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "c1",
                    "content": "noon",
                    "cache_control": EPHEMERAL,
                }
            ],
        },
    ]


# Structured output


def test_json_schema_becomes_anthropic_output_format() -> None:
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "city", "schema": SCHEMA, "strict": True},
    }

    translated = to_anthropic([HI], response_format=response_format)

    assert translated["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}


def test_json_object_becomes_an_instruction_and_a_prefill() -> None:
    body = {"model": "m", "messages": [HI], "response_format": {"type": "json_object"}}

    translated = openai_request_to_anthropic(body)

    assert translated["system"] == (
        "Answer with a single JSON object and nothing else: no prose, no code fences."
    )
    assert translated["messages"] == [HI, {"role": "assistant", "content": "{"}]
    assert json_prefill(body, RouteOptions()) == "{"


@pytest.mark.parametrize(
    ("options", "params"),
    [
        (RouteOptions(json_prefill=False), {}),
        (RouteOptions(), {"reasoning_effort": "low"}),
    ],
)
def test_json_object_without_prefill(options: RouteOptions, params: dict[str, Any]) -> None:
    body = {"model": "m", "messages": [HI], "response_format": {"type": "json_object"}, **params}

    translated = openai_request_to_anthropic(body, options)

    assert translated["messages"] == [HI]
    assert "JSON object" in translated["system"]
    assert json_prefill(body, options) == ""


def test_anthropic_output_format_becomes_a_strict_json_schema() -> None:
    expected = {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": SCHEMA, "strict": True},
    }
    ga: dict[str, Any] = {"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}}
    beta: dict[str, Any] = {"output_format": {"type": "json_schema", "schema": SCHEMA}}

    assert to_openai([HI], **ga)["response_format"] == expected
    assert to_openai([HI], **beta)["response_format"] == expected


def test_unknown_response_format_is_refused() -> None:
    with pytest.raises(GatewayError, match="response_format of type 'xml'"):
        to_anthropic([HI], response_format={"type": "xml"})


# Sampling, limits and strict tools


def test_top_k_and_strict_tools_pass_both_ways() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": SCHEMA, "strict": True}}]

    translated = to_anthropic([HI], top_k=5, temperature=1.5, tools=tools)

    assert (translated["top_k"], translated["temperature"]) == (5, 1.5)
    assert translated["tools"] == [{"name": "f", "input_schema": SCHEMA, "strict": True}]
    assert anthropic_request_to_openai(translated)["tools"] == tools


@pytest.mark.parametrize(
    ("model", "options", "max_tokens"),
    [
        ("claude-sonnet-4-5", RouteOptions(), 64_000),
        ("claude-opus-4-1-20250805", RouteOptions(), 32_000),
        ("claude-3-5-haiku-latest", RouteOptions(), 8192),
        ("anthropic/claude-3-haiku-20240307", RouteOptions(), 4096),
        ("claude-3-haiku-20240307", RouteOptions(default_max_tokens=2000), 2000),
    ],
)
def test_default_max_tokens_follows_the_model_family_or_the_route(
    model: str, options: RouteOptions, max_tokens: int
) -> None:
    body = {"model": model, "messages": [HI]}

    assert openai_request_to_anthropic(body, options)["max_tokens"] == max_tokens


# Documents, refusals, empty turns, the function role


def test_pdf_file_parts_and_documents_translate_both_ways() -> None:
    file_part = {
        "type": "file",
        "file": {"filename": "report.pdf", "file_data": f"data:application/pdf;base64,{PDF}"},
    }
    document = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
        "title": "report.pdf",
    }

    translated = to_anthropic([{"role": "user", "content": [file_part]}])

    assert translated["messages"][0]["content"] == [document]
    assert to_openai([{"role": "user", "content": [document]}])["messages"][0]["content"] == [
        file_part
    ]


def test_plain_text_documents_become_text_and_file_ids_are_refused() -> None:
    text_document = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "Notes."},
    }
    file_id = {"type": "file", "file": {"file_id": "file-abc"}}

    assert to_openai([{"role": "user", "content": [text_document]}])["messages"][0] == {
        "role": "user",
        "content": [{"type": "text", "text": "Notes."}],
    }
    with pytest.raises(GatewayError, match="file ids cannot be translated"):
        to_anthropic([{"role": "user", "content": [file_id]}])


def test_assistant_refusal_in_the_history_becomes_its_text() -> None:
    refused = {"role": "assistant", "content": None, "refusal": "I can't help with that."}

    translated = to_anthropic([HI, refused, {"role": "user", "content": "Why?"}])

    assert translated["messages"][1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "I can't help with that."}],
    }


@pytest.mark.parametrize("empty", ["", []])
def test_empty_turns_are_kept_as_empty_text(empty: Any) -> None:
    messages = [
        {"role": "user", "content": empty},
        {"role": "assistant", "content": empty},
        {"role": "user", "content": "Hi"},
    ]

    assert to_anthropic(messages)["messages"] == [
        {"role": "user", "content": ""},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "Hi"},
    ]
    assert to_openai([{"role": "user", "content": []}])["messages"] == [
        {"role": "user", "content": ""}
    ]


def test_legacy_functions_and_the_function_role_become_tools_and_tool_results() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        },
        {"role": "function", "name": "get_weather", "content": "18C"},
    ]
    functions = [{"name": "get_weather", "parameters": SCHEMA}]

    translated = to_anthropic(messages, functions=functions, function_call={"name": "get_weather"})

    assert translated["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "call_function_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_function_1", "content": "18C"}
            ],
        },
    ]
    assert translated["tools"] == [{"name": "get_weather", "input_schema": SCHEMA}]
    assert translated["tool_choice"] == {"type": "tool", "name": "get_weather"}


# Parameters with no counterpart


def test_untranslatable_parameters_are_named_unless_they_ask_for_nothing() -> None:
    body = {
        "seed": 7,
        "logprobs": True,
        "top_logprobs": 0,
        "presence_penalty": 0,
        "frequency_penalty": 0.5,
        "logit_bias": {},
        "service_tier": "auto",
        "metadata": {"run": "1"},
        "store": False,
    }

    assert untranslatable(body, "openai", "anthropic") == [
        "seed",
        "logprobs",
        "frequency_penalty",
        "metadata",
    ]
    assert untranslatable({"service_tier": "standard_only", "top_k": 5}, "anthropic", "openai") == [
        "service_tier"
    ]


@pytest.mark.parametrize(
    ("body", "on_openai", "on_anthropic"),
    [
        ({"top_logprobs": 3}, ["top_logprobs"], ["top_logprobs"]),
        ({"top_logprobs": 0, "text": {"verbosity": "medium"}}, [], []),
        ({"text": {"verbosity": "low", "format": {"type": "text"}}}, [], ["text.verbosity"]),
    ],
)
def test_a_responses_request_is_checked_in_its_own_names_against_its_upstream(
    body: dict[str, Any], on_openai: list[str], on_anthropic: list[str]
) -> None:
    # Chat Completions has verbosity; logprobs are not carried back to a Responses client.
    assert untranslatable(body, "responses", "openai") == on_openai
    assert untranslatable(body, "responses", "anthropic") == on_anthropic
