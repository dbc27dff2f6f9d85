"""Translation between the OpenAI Chat Completions and Anthropic Messages API shapes.

Pure functions for whole bodies (requests and replies) and small stateful translators
for streams; no I/O. The front-ends use them when a client speaks one shape and the
upstream the other.
"""

from llm_gateway.translate.requests import anthropic_request_to_openai, openai_request_to_anthropic
from llm_gateway.translate.responses import (
    anthropic_response_to_openai,
    openai_response_to_anthropic,
)
from llm_gateway.translate.streams import AnthropicToOpenAIStream, OpenAIToAnthropicStream

__all__ = [
    "AnthropicToOpenAIStream",
    "OpenAIToAnthropicStream",
    "anthropic_request_to_openai",
    "anthropic_response_to_openai",
    "openai_request_to_anthropic",
    "openai_response_to_anthropic",
]
