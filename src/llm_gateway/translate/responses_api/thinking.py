"""Signed thinking, carried through a Responses client and back in ``encrypted_content``.

Anthropic signs its thinking and, in a tool loop with thinking on, wants the signed blocks
of the assistant turn back, or it refuses the request. The Chat Completions translation
carries them as ``thinking_blocks`` beside ``reasoning_content``; a Responses client
keeps a ``reasoning`` item and returns its ``encrypted_content`` untouched (Codex asks
for it with ``include: ["reasoning.encrypted_content"]``). So the blocks are sealed into
that field, and a reasoning item sealed here opens again into the ``thinking_blocks`` of
the assistant message that follows it. Any other ``encrypted_content`` (OpenAI's own)
means nothing off OpenAI and is dropped with its item.

The seal is an encoding, not encryption: Anthropic's signature already protects the text.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

_PREFIX = "llm-gateway.thinking.1."


def seal(blocks: list[dict[str, Any]]) -> str:
    return _PREFIX + base64.urlsafe_b64encode(orjson.dumps(blocks)).decode()


def unseal(encrypted_content: Any) -> list[dict[str, Any]]:
    """The thinking blocks sealed in ``encrypted_content``; none if it is not ours."""
    if not isinstance(encrypted_content, str) or not encrypted_content.startswith(_PREFIX):
        return []
    try:
        blocks = orjson.loads(base64.urlsafe_b64decode(encrypted_content[len(_PREFIX) :]))
    except (binascii.Error, ValueError):
        return []
    if not isinstance(blocks, list):
        return []
    return [block for block in blocks if isinstance(block, dict)]
