"""What a route tells the translators about its upstream model.

The two APIs disagree on defaults that depend on the model behind them: Anthropic
requires ``max_tokens`` and each Claude family has its own ceiling; OpenAI's reasoning
models (o-series, gpt-5) take ``max_completion_tokens`` and ``reasoning_effort`` where
older models take ``max_tokens`` and refuse ``reasoning_effort``. A route can say so
(``default_max_tokens``, ``reasoning_model``, ``json_prefill`` in the config); when it
does not, the model id decides.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_TOKENS = 64_000
"""Sent to Anthropic when the client set no limit: the output ceiling of Claude Sonnet 4
and later, Haiku 4.5 and Opus 4.5."""

# Older Claude families whose output ceiling is below the default (longest prefix first).
_SMALLER_CEILINGS = (
    ("claude-3-5-haiku", 8192),
    ("claude-3-5-sonnet", 8192),
    ("claude-3-haiku", 4096),
    ("claude-3-opus", 4096),
    ("claude-opus-4-1", 32_000),
    ("claude-opus-4-0", 32_000),
    ("claude-opus-4-2025", 32_000),
)

# OpenAI model ids that reason: they take ``max_completion_tokens`` and ``reasoning_effort``.
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


@dataclass(frozen=True, slots=True)
class RouteOptions:
    """A route's translation settings; the defaults are what an unconfigured route gets."""

    default_max_tokens: int = 0
    """``max_tokens`` for Anthropic when the client gave none; 0 means the model's ceiling."""
    reasoning_model: bool | None = None
    """Whether an OpenAI upstream model reasons; ``None`` guesses from its id."""
    json_prefill: bool = True
    """Whether ``json_object`` may prefill the Anthropic answer with ``{``."""


def anthropic_max_tokens(model: str, options: RouteOptions) -> int:
    """The ``max_tokens`` to send an Anthropic upstream for a client that set no limit."""
    if options.default_max_tokens:
        return options.default_max_tokens
    bare = model.rpartition("/")[2]
    for prefix, ceiling in _SMALLER_CEILINGS:
        if bare.startswith(prefix):
            return ceiling
    return DEFAULT_MAX_TOKENS


def is_reasoning_model(model: str, options: RouteOptions) -> bool:
    """Whether an OpenAI upstream model takes ``max_completion_tokens`` and ``reasoning_effort``.

    Model ids often carry a vendor prefix (``openai/o3``), so only the last part counts.
    """
    if options.reasoning_model is not None:
        return options.reasoning_model
    return model.rpartition("/")[2].startswith(_REASONING_PREFIXES)
