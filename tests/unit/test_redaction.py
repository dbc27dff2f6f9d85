"""An upstream that quotes the key it was sent loses the key before anyone sees its words."""

from __future__ import annotations

from llm_gateway.errors import MAX_MESSAGE, GatewayError
from llm_gateway.providers.http import MIN_CUT_SECRET, redact_error
from llm_gateway.untrusted import clip, kept_of_clipped

KEY = "sk-route-0123456789abcdef"


def test_a_quoted_key_is_redacted_from_the_message_and_the_body() -> None:
    body = f'{{"error": {{"message": "Incorrect API key provided: {KEY}"}}}}'.encode()
    error = GatewayError("upstream", 401, f"Incorrect API key provided: {KEY}", upstream_body=body)

    redacted = redact_error(error, [KEY.encode()])

    assert redacted.message == "Incorrect API key provided: [redacted]"
    assert redacted.args == (redacted.message,)
    assert (
        redacted.upstream_body
        == b'{"error": {"message": "Incorrect API key provided: [redacted]"}}'
    )


def test_a_key_across_the_cut_of_a_long_message_leaves_no_beginning_behind() -> None:
    for left in (MIN_CUT_SECRET, 10, len(KEY) - 1):
        message = "x" * (MAX_MESSAGE - left) + KEY + " and more"
        error = GatewayError("upstream", 502, message)
        assert KEY[:left] in error.message, "the cut falls inside the key"

        redacted = redact_error(error, [KEY.encode()]).message

        assert redacted.startswith("x" * (MAX_MESSAGE - left) + "[redacted]...[")
        assert KEY[:MIN_CUT_SECRET] not in redacted


def test_a_message_that_only_ends_like_a_key_is_left_alone() -> None:
    shorter = "x" * (MAX_MESSAGE - 2) + KEY
    assert redact_error(GatewayError("upstream", 502, shorter), [KEY.encode()]).message == (
        clip(shorter, MAX_MESSAGE)
    ), "fewer than MIN_CUT_SECRET characters of the key are no secret"
    uncut = "the key starts with sk-r"
    assert redact_error(GatewayError("upstream", 502, uncut), [KEY.encode()]).message == uncut


def test_kept_of_clipped_splits_only_a_marker_clip_made() -> None:
    assert kept_of_clipped(clip("abcdef", 3)) == ("abc", "...[3 more characters]")
    assert kept_of_clipped("a...[b") == ("a...[b", "")
    assert kept_of_clipped("short") == ("short", "")
