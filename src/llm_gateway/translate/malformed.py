"""Bodies of the wrong shape become a :class:`GatewayError` that says what is wrong.

The translators read bodies the way the API references describe them and index into
them directly. A body that is not shaped like that (a missing field, a string where an
object belongs) is someone's mistake: the client's for a request, the upstream's for a
reply. Rather than checking every field twice, the public entry points turn the
``KeyError``, ``TypeError`` and the like that such a body causes into an error that
blames the right side.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from llm_gateway.errors import GatewayError, validation_error

P = ParamSpec("P")
R = TypeVar("R")


_WRONG_SHAPE = "a field has the wrong type or shape for this API"


def upstream_error(message: str) -> GatewayError:
    return GatewayError("upstream", 502, f"unexpected upstream reply: {message}")


def interleaved_tool_calls() -> GatewayError:
    """A stream that goes back to a tool call after starting the next one, which stream
    formats built of whole blocks or items in order cannot express."""
    return GatewayError(
        "upstream", 502, "upstream interleaved the arguments of parallel tool calls"
    )


def request_error(message: str) -> GatewayError:
    return validation_error(f"cannot translate request: {message}")


def blames(error: Callable[[str], GatewayError]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a translator so a malformed body raises ``error(description)``."""

    def decorate(translate: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(translate)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return translate(*args, **kwargs)
            except KeyError as exc:
                raise error(f"missing field {exc.args[0]!r}") from None
            except ValueError as exc:
                # Raised on purpose, with a message written for the client.
                raise error(str(exc)) from None
            except (IndexError, TypeError, AttributeError):
                # Python's own words ("'int' object is not iterable") mean nothing to a client.
                raise error(_WRONG_SHAPE) from None

        return wrapper

    return decorate
