"""Thinking (Anthropic) <-> reasoning (OpenAI and compatible servers).

The request side: OpenAI's ``reasoning_effort`` is a level, Anthropic's ``thinking`` a
token budget. :data:`EFFORT_BUDGETS` maps one to the other; the way back picks the level
whose budget is the nearest at or above (``minimal``'s 1,024 reads back as ``low``,
since only gpt-5 knows ``minimal``). Anthropic's ``output_config.effort`` is a level
already. Adaptive thinking leaves the level to the upstream's default.

The reply side: Anthropic thinking blocks become ``reasoning_content``, the field vLLM,
DeepSeek and others use for reasoning text (some newer servers call it ``reasoning``;
both are read). Anthropic signs its thinking and accepts only signed thinking back, which
the client must return in a tool loop. OpenAI messages have no place for a signature, so
the blocks ride beside the text as ``thinking_blocks`` (the name LiteLLM uses, so clients
written for it work unchanged)::

    "reasoning_content": "Let me see...",
    "thinking_blocks": [{"type": "thinking", "thinking": "Let me see...", "signature": "EqQB..."},
                        {"type": "redacted_thinking", "data": "EmwK..."}]

A client that sends the assistant message back as it came gets the same blocks to
Anthropic. Streamed, the text arrives as ``delta.reasoning_content`` and, for clients
that keep the blocks, also as ``delta.thinking_blocks`` entries keyed by ``index`` the
way tool calls are, so the openai SDK's own accumulator rebuilds each block, text and
signature. Unsigned reasoning (from a server that signs nothing) is not sent to
Anthropic, which would refuse it, and signed thinking is not sent to an OpenAI upstream,
which could not read it.
"""

from __future__ import annotations

from typing import Any

from llm_gateway.errors import validation_error
from llm_gateway.tokens import tokens_for_chars

EFFORT_BUDGETS = {"minimal": 1024, "low": 4000, "medium": 10_000, "high": 24_000, "xhigh": 32_000}
"""``reasoning_effort`` -> Anthropic ``thinking.budget_tokens``."""

MIN_BUDGET = 1024
"""Anthropic's smallest thinking budget."""

_ANTHROPIC_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "max": "high"}
_THINKING = frozenset({"thinking", "redacted_thinking"})


def anthropic_thinking(effort: Any, max_tokens: int) -> dict[str, Any] | None:
    """``reasoning_effort`` as Anthropic ``thinking``; ``None`` for ``none`` (no thinking).

    The budget counts toward ``max_tokens`` and must stay below it, so a smaller limit
    lowers the budget. Below Anthropic's minimum there is no room to think at all: the
    answer comes without thinking (``None``), within the limit the client set, rather
    than a 400 or a higher limit than the client asked for.
    """
    if effort == "none":
        return None
    if effort not in EFFORT_BUDGETS:
        raise validation_error(
            f"reasoning_effort must be one of none, {', '.join(EFFORT_BUDGETS)}; got {effort!r}",
            param="reasoning_effort",
        )
    budget = min(EFFORT_BUDGETS[effort], max_tokens - 1)
    if budget < MIN_BUDGET:
        return None
    return {"type": "enabled", "budget_tokens": budget}


def openai_reasoning_effort(body: dict[str, Any]) -> str | None:
    """An Anthropic request's ``output_config.effort`` or ``thinking`` as ``reasoning_effort``."""
    effort = (body.get("output_config") or {}).get("effort")
    if effort is not None:
        if effort not in _ANTHROPIC_EFFORTS:
            raise validation_error(f"unknown effort {effort!r}", param="output_config.effort")
        return _ANTHROPIC_EFFORTS[effort]
    thinking = body.get("thinking") or {}
    if thinking.get("type") != "enabled":
        return None
    budget = thinking.get("budget_tokens") or 0
    for level in ("low", "medium"):
        if budget <= EFFORT_BUDGETS[level]:
            return level
    return "high"


def is_thinking(block: dict[str, Any]) -> bool:
    return block.get("type") in _THINKING


def anthropic_thinking_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The signed thinking an OpenAI assistant message carries, as Anthropic blocks."""
    blocks: list[dict[str, Any]] = []
    for block in message.get("thinking_blocks") or ():
        if block.get("type") == "redacted_thinking":
            blocks.append({"type": "redacted_thinking", "data": block["data"]})
        elif block.get("type") == "thinking" and block.get("signature"):
            thinking = block.get("thinking") or ""
            blocks.append(
                {"type": "thinking", "thinking": thinking, "signature": block["signature"]}
            )
    return blocks


def reasoning_text(message: dict[str, Any]) -> str:
    """The reasoning text of an OpenAI-shaped message or delta, under either name."""
    text = message.get("reasoning_content") or message.get("reasoning")
    return text if isinstance(text, str) else ""


def openai_reasoning(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Anthropic thinking blocks as the OpenAI message fields (none when there are none)."""
    thinking = [block for block in blocks if is_thinking(block)]
    if not thinking:
        return {}
    text = "".join(block.get("thinking") or "" for block in thinking)
    return {"reasoning_content": text, "thinking_blocks": [_openai_block(b) for b in thinking]}


def unsigned_reasoning(blocks: list[dict[str, Any]]) -> str:
    """The text of the unsigned thinking blocks: the reasoning an OpenAI upstream wrote."""
    return "".join(
        block.get("thinking") or ""
        for block in blocks
        if block.get("type") == "thinking" and not block.get("signature")
    )


def anthropic_thinking_block(text: str) -> dict[str, Any]:
    """Reasoning text from an OpenAI upstream as an (unsigned) Anthropic thinking block."""
    return {"type": "thinking", "thinking": text, "signature": ""}


def reasoning_tokens(chars: int, output_tokens: int) -> int:
    """An estimate: Anthropic counts thinking in ``output_tokens`` but not apart."""
    return min(tokens_for_chars(chars), output_tokens)


def _openai_block(block: dict[str, Any]) -> dict[str, Any]:
    if block["type"] == "redacted_thinking":
        return {"type": "redacted_thinking", "data": block.get("data") or ""}
    return {
        "type": "thinking",
        "thinking": block.get("thinking") or "",
        "signature": block.get("signature") or "",
    }
