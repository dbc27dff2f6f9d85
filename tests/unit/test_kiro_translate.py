"""Kiro event frames -> the Anthropic Messages stream and response."""

from __future__ import annotations

from typing import Any

import pytest

from llm_gateway.errors import GatewayError
from llm_gateway.providers.kiro.eventstream import Frame, FrameDecoder, encode_frame
from llm_gateway.providers.kiro.payload import ToolNames
from llm_gateway.providers.kiro.translate import AnswerBuilder, AnthropicEvent
from tests.fakes.kiro_server import (
    closing_frames,
    event_frame,
    exception_frame,
    text_frames,
    tool_frames,
)


def builder(max_tokens: int | None = 1000, names: ToolNames | None = None) -> AnswerBuilder:
    return AnswerBuilder(
        message_id="msg_1",
        model="claude-sonnet-4.5",
        input_tokens=42,
        max_tokens=max_tokens,
        tool_names=names or ToolNames(),
    )


def frames(*groups: list[bytes]) -> list[Frame]:
    return FrameDecoder().feed(b"".join(frame for group in groups for frame in group))


def run(answer: AnswerBuilder, *groups: list[bytes]) -> list[AnthropicEvent]:
    events = answer.start()
    for frame in frames(*groups):
        events += answer.feed(frame)
    return events + answer.finish()


def names(events: list[AnthropicEvent]) -> list[str]:
    return [name for name, _ in events]


def test_a_text_answer_is_the_anthropic_event_sequence() -> None:
    answer = builder()
    events = run(answer, text_frames("Hel", "lo!"), closing_frames(credits=0.2))
    assert names(events) == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]
    assert start["usage"] == {"input_tokens": 42, "output_tokens": 0}
    assert start["content"] == [] and start["stop_reason"] is None
    assert events[2][1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    assert events[3][1]["delta"] == {"type": "text_delta", "text": "Hel"}
    assert events[6][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 2},
    }
    assert answer.credits == pytest.approx(0.2)
    assert answer.message() == {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4.5",
        "content": [{"type": "text", "text": "Hello!"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 42, "output_tokens": 2},
    }


def test_tool_call_fragments_become_input_json_deltas() -> None:
    answer = builder()
    events = run(
        answer,
        text_frames("Let me check."),
        tool_frames("get_weather", "tooluse_1", ['{"ci', 'ty": "Pa', 'ris"}']),
        closing_frames(credits=0.1),
        closing_frames(credits=0.15),
    )
    assert names(events)[2:] == [
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[5][1]["content_block"] == {
        "type": "tool_use",
        "id": "tooluse_1",
        "name": "get_weather",
        "input": {},
    }
    assert [data["delta"]["partial_json"] for _, data in events[6:9]] == [
        '{"ci',
        'ty": "Pa',
        'ris"}',
    ]
    assert events[10][1]["delta"]["stop_reason"] == "tool_use"
    assert answer.credits == pytest.approx(0.25)
    assert answer.message()["content"] == [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}},
    ]


def test_two_tool_calls_in_a_row_and_an_empty_input() -> None:
    answer = builder()
    run(answer, tool_frames("a", "t1", ['{"x": 1}']), tool_frames("b", "t2", []))
    assert answer.message()["content"] == [
        {"type": "tool_use", "id": "t1", "name": "a", "input": {"x": 1}},
        {"type": "tool_use", "id": "t2", "name": "b", "input": {}},
    ]


def test_interleaved_tool_calls_are_emitted_one_block_at_a_time() -> None:
    def use(tool_id: str, fragment: str, stop: bool = False) -> bytes:
        data: dict[str, Any] = {"name": f"tool_{tool_id}", "toolUseId": tool_id, "input": fragment}
        if stop:
            data["stop"] = True
        return event_frame("toolUseEvent", data)

    answer = builder()
    events = run(
        answer,
        [use("a", '{"n":'), use("b", '{"m":'), use("a", "1}", True), use("b", "2}", True)],
    )
    starts = [
        (data["index"], data["content_block"]["id"])
        for name, data in events
        if name == "content_block_start"
    ]
    stops = [data["index"] for name, data in events if name == "content_block_stop"]
    assert starts == [(0, "a"), (1, "b")]
    assert stops == [0, 1]
    order = [data["index"] for name, data in events if name.startswith("content_block")]
    assert order == sorted(order)
    assert [block["input"] for block in answer.message()["content"]] == [{"n": 1}, {"m": 2}]


def test_a_tool_call_without_stop_is_closed_at_the_end() -> None:
    answer = builder()
    frame = event_frame("toolUseEvent", {"name": "a", "toolUseId": "t1", "input": "{}"})
    events = run(answer, [frame])
    assert names(events)[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert answer.stop_reason == "tool_use"


def test_long_tool_names_are_mapped_back() -> None:
    tool_names = ToolNames()
    long_name = "n" * 100
    short = tool_names.to_kiro(long_name)
    answer = builder(names=tool_names)
    run(answer, tool_frames(short, "t1", ["{}"]))
    assert answer.message()["content"][0]["name"] == long_name


def test_unknown_and_informational_events_are_skipped() -> None:
    answer = builder()
    events = run(
        answer,
        [
            event_frame("followupPromptEvent", {"followupPrompt": {"content": "more?"}}),
            event_frame("reasoningContentEvent", {"text": "thinking"}),
            event_frame("metadataEvent", {"anything": [1, 2]}),
            encode_frame(b"not json", {":message-type": "event", ":event-type": "brandNewEvent"}),
        ],
        text_frames("ok"),
        closing_frames(),
    )
    assert answer.message()["content"] == [{"type": "text", "text": "ok"}]
    assert names(events).count("content_block_delta") == 1


def test_an_exception_frame_is_an_upstream_error() -> None:
    answer = builder()
    answer.start()
    (ok, failure) = frames(
        text_frames("partial"), [exception_frame("ThrottlingException", "slow down")]
    )
    assert answer.feed(ok)
    with pytest.raises(GatewayError, match="ThrottlingException: slow down") as caught:
        answer.feed(failure)
    assert (caught.value.error_type, caught.value.status) == ("upstream", 502)


def test_an_error_frame_names_its_code() -> None:
    frame = encode_frame(b"", {":message-type": "error", ":error-code": "InternalError"})
    with pytest.raises(GatewayError, match="InternalError: no details"):
        builder().feed(FrameDecoder().feed(frame)[0])


def test_an_unreadable_known_event_is_an_upstream_error() -> None:
    frame = encode_frame(
        b"{oops", {":message-type": "event", ":event-type": "assistantResponseEvent"}
    )
    with pytest.raises(GatewayError, match="unreadable assistantResponseEvent"):
        builder().feed(FrameDecoder().feed(frame)[0])


def test_invalid_tool_input_json_is_an_upstream_error() -> None:
    answer = builder()
    run(answer, tool_frames("a", "t1", ['{"x": ']))
    with pytest.raises(GatewayError, match="not valid JSON"):
        answer.message()


def test_max_tokens_cuts_the_text_and_says_so() -> None:
    answer = builder(max_tokens=2)  # 8 characters at 4 characters per token
    events = answer.start()
    for frame in frames(text_frames("abcde", "fghij", "klm")):
        events += answer.feed(frame)
        if answer.truncated:
            break
    events += answer.finish()
    assert answer.message()["content"] == [{"type": "text", "text": "abcdefgh"}]
    assert events[-2][1]["delta"]["stop_reason"] == "max_tokens"
    assert events[-2][1]["usage"] == {"output_tokens": 2}


def test_no_credits_without_metering() -> None:
    answer = builder()
    run(answer, text_frames("x"))
    assert answer.credits is None
