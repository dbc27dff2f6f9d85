"""What the simulated model says and how it counts tokens: exact, and the same every time."""

from __future__ import annotations

from typing import Any

import pytest

from llm_gateway.errors import GatewayError
from llm_gateway.sim.completion import complete, count_tokens, prompt_text
from llm_gateway.sim.directives import Directives, parse_directives
from llm_gateway.sim.engine import expected_usage

PROMPT = "Tell me a story about a fox."  # 28 characters: 7 tokens


def openai_request(model: str = "sim", **fields: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": PROMPT}], **fields}


def anthropic_request(model: str = "sim", **fields: Any) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 1000,
        "messages": [{"role": "user", "content": PROMPT}],
        **fields,
    }


@pytest.mark.parametrize(
    ("text", "tokens"), [("", 1), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)]
)
def test_a_token_is_four_characters_rounded_up(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens


def test_prompt_text_is_the_same_conversation_in_either_shape() -> None:
    openai_body = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image_url"}]},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        ]
    }
    anthropic_body = {
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "input": {}}]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "sunny"}],
            },
        ],
    }
    assert prompt_text("openai", openai_body) == "Be brief.Hisunny"
    assert prompt_text("anthropic", anthropic_body) == "Be brief.Hisunny"


def test_the_answer_depends_only_on_the_request() -> None:
    first = complete("openai", openai_request(), Directives())
    again = complete("openai", openai_request(), Directives())
    other = complete(
        "openai", openai_request(messages=[{"role": "user", "content": "Hi"}]), Directives()
    )
    assert first == again
    assert first.text != other.text
    assert 16 <= first.output_tokens <= 64
    assert first.stop_reason == "end"
    assert first.input_tokens == 7


def test_both_shapes_say_the_same_words() -> None:
    assert complete("openai", openai_request(), Directives()).pieces == (
        complete("anthropic", anthropic_request(), Directives()).pieces
    )


def test_tokens_directive_sets_the_output_length() -> None:
    completion = complete("openai", openai_request(), Directives(tokens=5))
    assert completion.output_tokens == len(completion.pieces) == 5
    assert completion.text.count(" ") == 4


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_cuts_the_answer_short(field: str) -> None:
    completion = complete("openai", {**openai_request(), field: 3}, Directives(tokens=10))
    assert completion.output_tokens == 3
    assert completion.stop_reason == "length"


def test_max_tokens_above_the_length_changes_nothing() -> None:
    completion = complete("anthropic", anthropic_request(max_tokens=10), Directives(tokens=10))
    assert completion.output_tokens == 10
    assert completion.stop_reason == "end"


def test_a_stop_sequence_ends_the_answer_just_before_it() -> None:
    full = complete("openai", openai_request(), Directives(tokens=10))
    # Stop in the middle of the fourth word: the cut word still counts as a token.
    fourth = full.pieces[3]
    sequence = fourth[2:]
    cut = complete(
        "openai", openai_request(stop=[sequence, "never appears"]), Directives(tokens=10)
    )
    assert cut.text == full.text[: full.text.index(sequence)]
    assert cut.pieces == (*full.pieces[:3], fourth[:2])
    assert cut.output_tokens == 4
    assert cut.stop_reason == "stop_sequence"
    assert cut.stop_sequence == sequence


def test_the_earliest_stop_sequence_wins() -> None:
    full = complete("anthropic", anthropic_request(), Directives(tokens=10))
    later, earlier = full.pieces[5], full.pieces[2]
    cut = complete(
        "anthropic", anthropic_request(stop_sequences=[later, earlier]), Directives(tokens=10)
    )
    assert cut.stop_sequence == earlier
    assert cut.output_tokens == 2


def test_openai_accepts_a_single_stop_string() -> None:
    full = complete("openai", openai_request(), Directives(tokens=10))
    cut = complete("openai", openai_request(stop=full.pieces[1]), Directives(tokens=10))
    assert cut.pieces == full.pieces[:1]


def test_expected_usage_reads_the_directives_in_the_model() -> None:
    assert expected_usage("openai", openai_request("sim+tokens=9")) == (7, 9)
    assert expected_usage("anthropic", anthropic_request("sim+tokens=9", max_tokens=4)) == (7, 4)


@pytest.mark.parametrize(
    ("api", "body", "param"),
    [
        ("anthropic", {"model": "sim", "messages": []}, "max_tokens"),
        ("openai", {"model": "sim", "messages": "hello"}, "messages"),
        ("openai", {"model": "sim", "messages": ["hello"]}, "messages"),
        ("openai", {"model": "sim", "messages": [], "max_tokens": 0}, "max_tokens"),
        ("openai", {"model": "sim", "messages": [], "stop": 5}, "stop"),
        (
            "anthropic",
            {"model": "sim", "max_tokens": 5, "messages": [], "stop_sequences": "x"},
            "stop_sequences",
        ),
    ],
)
def test_a_request_the_real_api_refuses_is_a_validation_error(
    api: Any, body: dict[str, Any], param: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        complete(api, body, Directives())
    assert caught.value.error_type == "validation"
    assert caught.value.param == param


def test_tool_directive_calls_the_first_tool() -> None:
    tools = [
        {"type": "function", "function": {"name": "first", "parameters": {"type": "object"}}},
        {"type": "function", "function": {"name": "second", "parameters": {"type": "object"}}},
    ]
    completion = complete("openai", openai_request(tools=tools), parse_directives("sim+tool"))
    assert completion.tool_call is not None
    assert completion.tool_call.name == "first"
    assert completion.tool_call.id.startswith("call_")
    assert completion.stop_reason == "tool"
    assert completion.text == completion.tool_call.arguments == "{}"
    assert completion.output_tokens == 1


def test_tool_call_tokens_are_four_characters_of_arguments() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools = [{"name": "weather", "input_schema": schema}]
    completion = complete("anthropic", anthropic_request(tools=tools), parse_directives("sim+tool"))
    assert completion.tool_call is not None
    assert completion.tool_call.id.startswith("toolu_")
    assert completion.tool_call.arguments == '{"city":"sample"}'
    assert completion.pieces == ('{"ci', 'ty":', '"sam', 'ple"', "}")


def test_tool_directive_without_tools_is_a_validation_error() -> None:
    with pytest.raises(GatewayError) as caught:
        complete("openai", openai_request(), parse_directives("sim+tool"))
    assert caught.value.error_type == "validation"
    assert caught.value.param == "tools"
