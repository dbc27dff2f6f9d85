"""Dataclasses to JSON and back, driven by their type hints, so new fields need no code.

orjson writes a dataclass as an object of its fields, a tuple as an array. Reading it
back, :func:`decoder` builds, once per type, a function that turns the parsed JSON into
that type again: it follows the hints (nested dataclasses, tuples, lists, dicts,
``X | None``, literals, plain scalars), so a field added to :class:`Snapshot` or to any
dataclass inside it crosses the control socket with no change here. A hint this module
does not know is a :class:`TypeError` when the decoder is built, which a unit test turns
into a failure before a viewer ever meets it.

Decoding checks types as it goes: the data comes from a gateway of our own user, but
perhaps of another version, and a wrong type should stop ``top`` with a clear
:class:`DecodeError` rather than crash a panel mid-draw. Keys the dataclass does not know
are ignored and missing ones take the field's default, so a viewer and a gateway a field
apart still understand each other.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")

Decode = Callable[[Any], Any]


class DecodeError(ValueError):
    """The data does not have the shape the type hints promise."""


def decoder(hint: type[T]) -> Callable[[Any], T]:
    """A function that turns parsed JSON into a ``hint`` (a dataclass, usually)."""
    decode: Callable[[Any], T] = _decoder(hint)  # type: ignore[arg-type]  # types are hashable
    return decode


@cache
def _decoder(hint: Any) -> Decode:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _dataclass_decoder(hint)
    if hint in (str, int, bool):
        return _scalar(hint)
    if hint is float:
        return _float
    if hint is type(None):
        return _none
    if origin is typing.Literal:
        return _literal(frozenset(args))
    if origin in (typing.Union, types.UnionType):
        return _optional(hint, args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _sequence(_decoder(args[0]), tuple)
        return _fixed_tuple(tuple(_decoder(arg) for arg in args))
    if origin is list:
        return _sequence(_decoder(args[0]), list)
    if origin is dict:
        # JSON keys are strings: whole-number keys travel as their digits.
        key = _int_key if args[0] is int else _decoder(args[0])
        return _mapping(key, _decoder(args[1]))
    raise TypeError(f"cannot decode {hint!r}")


def _dataclass_decoder(cls: type[Any]) -> Decode:
    hints = typing.get_type_hints(cls)
    fields = [
        (
            f.name,
            _decoder(hints[f.name]),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
        if f.init
    ]

    def decode(data: Any) -> Any:
        if not isinstance(data, dict):
            raise DecodeError(f"{cls.__name__}: expected an object, got {_kind(data)}")
        values: dict[str, Any] = {}
        for name, field_decoder, required in fields:
            if name in data:
                try:
                    values[name] = field_decoder(data[name])
                except DecodeError as exc:
                    raise DecodeError(f"{cls.__name__}.{name}: {exc}") from None
            elif required:
                raise DecodeError(f"{cls.__name__}: missing {name}")
        return cls(**values)

    return decode


def _scalar(kind: type[Any]) -> Decode:
    def decode(data: Any) -> Any:
        # bool is an int to isinstance; a count that arrives as true is still wrong.
        if type(data) is not kind:
            raise DecodeError(f"expected {kind.__name__}, got {_kind(data)}")
        return data

    return decode


def _float(data: Any) -> float:
    # JSON has one number type: a float field that happened to be whole arrives as int.
    if type(data) is float:
        return data
    if type(data) is int:
        return float(data)
    raise DecodeError(f"expected a number, got {_kind(data)}")


def _none(data: Any) -> None:
    if data is not None:
        raise DecodeError(f"expected null, got {_kind(data)}")


def _literal(allowed: frozenset[Any]) -> Decode:
    def decode(data: Any) -> Any:
        if data not in allowed:
            raise DecodeError(f"{data!r} is not one of {sorted(map(repr, allowed))}")
        return data

    return decode


def _optional(hint: Any, args: tuple[Any, ...]) -> Decode:
    others = [arg for arg in args if arg is not type(None)]
    if len(others) != 1 or len(args) != 2:
        raise TypeError(f"cannot decode {hint!r}: only X | None unions are supported")
    inner = _decoder(others[0])

    def decode(data: Any) -> Any:
        return None if data is None else inner(data)

    return decode


def _sequence(item: Decode, build: Callable[[Any], Any]) -> Decode:
    def decode(data: Any) -> Any:
        if not isinstance(data, list):
            raise DecodeError(f"expected an array, got {_kind(data)}")
        return build(item(value) for value in data)

    return decode


def _fixed_tuple(items: tuple[Decode, ...]) -> Decode:
    def decode(data: Any) -> Any:
        if not isinstance(data, list) or len(data) != len(items):
            raise DecodeError(f"expected an array of {len(items)}, got {_kind(data)}")
        return tuple(item(value) for item, value in zip(items, data, strict=True))

    return decode


def _mapping(key: Decode, value: Decode) -> Decode:
    def decode(data: Any) -> Any:
        if not isinstance(data, dict):
            raise DecodeError(f"expected an object, got {_kind(data)}")
        return {key(k): value(v) for k, v in data.items()}

    return decode


def _int_key(data: str) -> int:
    try:
        return int(data)
    except ValueError:
        raise DecodeError(f"expected a whole-number key, got {data!r}") from None


def _kind(data: Any) -> str:
    return {dict: "an object", list: "an array", type(None): "null"}.get(
        type(data), type(data).__name__
    )
