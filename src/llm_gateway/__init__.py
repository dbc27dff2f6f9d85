"""llm-gateway: a fast gateway for LLM APIs with a live terminal dashboard."""

__version__ = "0.1.0"
