"""The names of the API shapes the gateway speaks, shared by every layer.

This module sits at the bottom of the tree: front-ends, providers, translation and the
simulator all name an API with :data:`Api`, and none of them has to import another to
do so.
"""

from __future__ import annotations

from typing import Literal

Api = Literal["openai", "anthropic", "responses"]
"""The API shapes, as clients and upstreams speak them: OpenAI Chat Completions
(``"openai"``), Anthropic Messages, and the OpenAI Responses API (``/v1/responses``)."""
