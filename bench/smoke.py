"""Check a server answers every path correctly before timing it, with the official SDKs.

``wrk`` only sees status codes: a server that answered 200 with the wrong body would
look fast. So each server first answers one whole and one streamed request per path
through the ``openai`` or ``anthropic`` SDK, and the text must be the mock's, exactly.
"""

from __future__ import annotations

import anthropic
import openai

from bench import replies
from bench.paths import PROMPT, Path

TIMEOUT = 30.0


class SmokeFailed(Exception):
    """A server answered a path wrongly; the message says how."""


def check(base_url: str, path: Path, api_key: str, chunks: int) -> None:
    """Raise :class:`SmokeFailed` unless ``path`` answers the mock's text, whole and streamed."""
    try:
        if path.client_api == "openai":
            whole, streamed = _openai_texts(base_url, path.model, api_key)
        elif path.client_api == "responses":
            whole, streamed = _responses_texts(base_url, path.model, api_key)
        else:
            whole, streamed = _anthropic_texts(base_url, path.model, api_key)
    except (openai.APIError, anthropic.APIError) as exc:
        raise SmokeFailed(f"{type(exc).__name__}: {exc}") from exc
    _expect("whole reply", whole, replies.REPLY_TEXT)
    _expect("streamed reply", streamed, replies.streamed_text(chunks))


def _expect(what: str, got: str, wanted: str) -> None:
    if got != wanted:
        raise SmokeFailed(f"{what} was {got[:60]!r}, expected {wanted[:60]!r}")


def _openai_texts(base_url: str, model: str, api_key: str) -> tuple[str, str]:
    messages: list[openai.types.chat.ChatCompletionMessageParam] = [
        {"role": "user", "content": PROMPT}
    ]
    with openai.OpenAI(
        base_url=f"{base_url}/v1", api_key=api_key, max_retries=0, timeout=TIMEOUT
    ) as client:
        reply = client.chat.completions.create(model=model, messages=messages)
        whole = reply.choices[0].message.content or ""
        pieces = []
        for chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
            if chunk.choices:
                pieces.append(chunk.choices[0].delta.content or "")
    return whole, "".join(pieces)


def _responses_texts(base_url: str, model: str, api_key: str) -> tuple[str, str]:
    with openai.OpenAI(
        base_url=f"{base_url}/v1", api_key=api_key, max_retries=0, timeout=TIMEOUT
    ) as client:
        whole = client.responses.create(model=model, input=PROMPT).output_text
        with client.responses.stream(model=model, input=PROMPT) as stream:
            streamed = stream.get_final_response().output_text
    return whole, streamed


def _anthropic_texts(base_url: str, model: str, api_key: str) -> tuple[str, str]:
    messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": PROMPT}]
    with anthropic.Anthropic(
        base_url=base_url, api_key=api_key, max_retries=0, timeout=TIMEOUT
    ) as client:
        reply = client.messages.create(model=model, max_tokens=128, messages=messages)
        whole = "".join(block.text for block in reply.content if block.type == "text")
        with client.messages.stream(model=model, max_tokens=128, messages=messages) as stream:
            streamed = "".join(stream.text_stream)
    return whole, streamed
