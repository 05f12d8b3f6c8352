"""The types a rule kind's parameters dataclass may use, and the loader's schema read from them.

A kind declares its parameters as a frozen dataclass (see `scheduler/rules/kinds/`); the policy
loader checks a rule's table against `spec_of(that dataclass)`, so the names, types and defaults
of a kind's parameters are written once, beside the code that reads them.
"""

from __future__ import annotations

import types
from dataclasses import MISSING, fields
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

POSITIVE = "positive int"
NON_NEGATIVE = "non-negative int"
ROLE_LIST = "roles"

Positive = Annotated[int, POSITIVE]  # a whole number of at least 1
NonNegative = Annotated[int, NON_NEGATIVE]  # a whole number of at least 0


@cache
def spec_of(params: type) -> dict[str, Any]:
    """name -> what the loader checks (a trailing ? marks a parameter with a default)."""
    hints = get_type_hints(params, include_extras=True)
    spec: dict[str, Any] = {}
    for f in fields(params):
        optional = f.default is not MISSING or f.default_factory is not MISSING
        spec[f.name + ("?" if optional else "")] = _check_of(hints[f.name], f"{params.__name__}.{f.name}")
    return spec


def _check_of(hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin is Annotated:
        return get_args(hint)[1]
    if origin is Literal:
        return get_args(hint)
    if origin in (Union, types.UnionType):  # X | None: optional, checked as X
        (inner,) = (a for a in get_args(hint) if a is not type(None))
        return _check_of(inner, where)
    if hint in (str, bool):
        return hint
    raise TypeError(f"{where}: no policy check for the type {hint!r}")  # a kind's mistake
