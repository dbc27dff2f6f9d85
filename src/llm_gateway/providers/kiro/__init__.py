"""Kiro (AWS CodeWhisperer) upstream: Claude through a Kiro subscription. See docs/KIRO.md."""

from llm_gateway.providers.kiro.provider import Backoff, KiroProvider, KiroReply

__all__ = ["Backoff", "KiroProvider", "KiroReply"]
