"""Request parameters that have no counterpart in the other API.

Translating a request drops whatever the translator does not map. For the parameters
below that would change the answer without telling anyone, so a translated request that
sets one gets a 400 naming it, the way LiteLLM does without ``drop_params``; a route with
``drop_unsupported = true`` drops them instead (the pipeline logs each once). A value
equal to the API's own default (``null``, ``false``, ``0``, empty, ``service_tier:
"auto"``) asks for nothing and passes.

A Responses API request is checked once, in its own names, against the upstream it ends
at (through Chat Completions): ``top_logprobs`` cannot come back through the translation,
and ``text.verbosity`` (Chat Completions' ``verbosity``) has no Anthropic counterpart.

Parameters that only tune delivery or the upstream's own bookkeeping, and leave the
answer as it is, are mapped or dropped without a word: OpenAI's ``stream_options``,
``prompt_cache_key`` and ``safety_identifier``, ``user`` -> ``metadata.user_id``;
Anthropic's ``cache_control`` (an OpenAI upstream caches by itself) and
``context_management`` (server-side trimming of old tool results and thinking, which
Claude Code asks for and an OpenAI upstream cannot do; refusing it would refuse Claude
Code).
"""

from __future__ import annotations

from typing import Any

from llm_gateway.apis import Api
from llm_gateway.errors import GatewayError, validation_error

UNSUPPORTED: dict[tuple[Api, Api], tuple[str, ...]] = {
    # An OpenAI client's parameters no Anthropic upstream takes.
    ("openai", "anthropic"): (
        "seed",
        "logprobs",
        "top_logprobs",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "service_tier",
        "metadata",
        "store",
        "prediction",
        "modalities",
        "audio",
        "web_search_options",
        "verbosity",
    ),
    # An Anthropic client's parameters no OpenAI upstream takes.
    ("anthropic", "openai"): ("service_tier", "container", "mcp_servers"),
    # A Responses client's, by the upstream its request reaches through Chat Completions:
    # Chat's logprobs are not carried back into ``output_text.logprobs``.
    ("responses", "openai"): ("top_logprobs",),
    ("responses", "anthropic"): ("top_logprobs", "text.verbosity"),
}

# What each parameter means when it asks for nothing; ``None`` and empty always do.
_NEUTRAL: dict[str, Any] = {
    "logprobs": False,
    "top_logprobs": 0,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "service_tier": "auto",
    "store": False,
    "verbosity": "medium",
    "text.verbosity": "medium",
}


def untranslatable(body: dict[str, Any], client: Api, upstream: Api) -> list[str]:
    """The parameters in a ``client``-shaped request that cannot reach an ``upstream`` API
    (a dot names a field inside another: ``text.verbosity``)."""
    return [
        name
        for name in UNSUPPORTED.get((client, upstream), ())
        if not _asks_nothing(name, _field(body, name))
    ]


def _field(body: dict[str, Any], name: str) -> Any:
    outer, _, inner = name.partition(".")
    value = body.get(outer)
    if inner:
        return value.get(inner) if isinstance(value, dict) else None
    return value


def unsupported_error(name: str, upstream: Api) -> GatewayError:
    return validation_error(
        f"'{name}' has no equivalent in the {_TITLES[upstream]} API this model is served "
        "by; leave it out, or set drop_unsupported = true on the route to drop it",
        param=name,
    )


_TITLES: dict[Api, str] = {"openai": "OpenAI Chat Completions", "anthropic": "Anthropic Messages"}


def _asks_nothing(name: str, value: Any) -> bool:
    if value is None or value in ({}, [], ""):
        return True
    return name in _NEUTRAL and value == _NEUTRAL[name]
