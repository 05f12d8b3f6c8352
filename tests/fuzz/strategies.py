"""Generators of bad and odd input shared by the fuzz tests: odd strings (control characters,
lone surrogates, right-to-left marks, very long ones), edge dates and times, wrong-typed JSON
values, and mutations of a valid JSON document (a key removed, a value replaced by an odd one, an
unknown key added, a list emptied or repeated)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

EDGE_DATES = [
    "0001-01-01",
    "1899-12-31",
    "1900-01-01",
    "1970-01-01",
    "2026-02-29",
    "2028-02-29",
    "2026-11-23",
    "2026-11-24",
    "2026-12-25",
    "2199-12-31",
    "2200-01-01",
    "9999-12-31",
    "2026-13-01",
    "2026-00-10",
    "2026-11-31",
    "26-11-23",
    "2026/11/23",
    "23/11/2026",
    "31/02/2026",
    "2026-11-23T10:30",
    "+2026-11-23",
    "２０２６-１１-２３",  # full-width digits
    "٢٠٢٦-١١-٢٣",  # Arabic-Indic digits
]
EDGE_TIMES = [
    "00:00",
    "10:30",
    "9:05",
    "23:59",
    "24:00",
    "10:60",
    "10",
    "10:30:00",
    "10:30:00.123456",
    "10:30+05:00",
    "1030",
    "-1:00",
    "٣:٣٠",
    "10：30",
]
EDGE_INSTANTS = [
    "2026-11-23T10:30:00+00:00",
    "2026-11-23T10:30:00Z",
    "2026-11-23T10:30:00",  # no offset
    "2026-11-23 10:30",
    "2026-11-23T10:30:00+24:00",
    "2026-11-23T10:30:00-23:59",
    "2026-11-23T25:00:00+00:00",
    "0001-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59-12:00",
    "2027-11-23T10:30:00+00:00",
    "2026-11-23T10:30:00.999999999+00:00",
    "21/12/2026 10:30",
    "1e9",
    "",
]
WEIRD_STRINGS = [
    "",
    " ",
    "\t\n",
    "\x00",
    "a\x00b",
    "\ud800",  # a lone surrogate (valid in JSON text as an escape, not encodable as UTF-8)
    "\u202eC-1042",  # right-to-left override
    "\u200b",
    "C-1042\u00a0seen",
    "<@U0TM>",
    "<!channel>",
    "*bold* `code` ```block```",
    "'; DROP TABLE children; --",
    "%s %d {0} {name}",
    "../../etc/passwd",
    "null",
    "None",
    "NaN",
    "🙂" * 10,
    "x" * 300,
]


def long_text(min_size: int = 300, max_size: int = 20_000) -> st.SearchStrategy[str]:
    """A long string built by repeating a short one (cheaper than drawing every character)."""
    return st.builds(
        lambda piece, n: (piece * (n // max(1, len(piece)) + 1))[:n],
        st.text(min_size=1, max_size=8),
        st.integers(min_size, max_size),
    )


ODD_TEXT = st.one_of(
    st.sampled_from(WEIRD_STRINGS),
    st.sampled_from(EDGE_DATES + EDGE_TIMES + EDGE_INSTANTS),
    st.text(max_size=30),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=20),
    long_text(),
)

ODD_NUMBER = st.one_of(
    st.sampled_from([0, -1, 1, 2**31, 2**63, 2**64, 10**30, -(10**30)]),
    st.integers(-1000, 1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 1.0, 3.0, -0.0, 1e308]),
)

JSON_SCALAR = st.one_of(st.none(), st.booleans(), ODD_NUMBER, ODD_TEXT)

ODD_JSON: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=10), inner, max_size=4),
    ),
    max_leaves=8,
)


def _slots(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON document: the root () and each key or index path."""
    yield path
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _slots(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _slots(value, (*path, i))


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


@st.composite
def mutated_json(draw: st.DrawFn, base: Any, max_mutations: int = 3, extra: list[Any] | None = None) -> Any:
    """`base` with 1..max_mutations mutations. `extra`: values worth trying besides odd ones (e.g.
    the names of real rules or roles, so that a mutation gets past the first check)."""
    doc = copy.deepcopy(base)
    # drawn values are copied: a later mutation must not change a shared `extra` value
    values = (st.one_of(ODD_JSON, st.sampled_from(extra)) if extra else ODD_JSON).map(copy.deepcopy)
    for _ in range(draw(st.integers(1, max_mutations))):
        slots = [p for p in _slots(doc) if p]
        if not slots:
            return draw(values)
        path = draw(st.sampled_from(slots))
        parent, key = _get(doc, path[:-1]), path[-1]
        op = draw(st.sampled_from(["delete", "replace", "replace", "unknown", "wrap", "repeat", "empty"]))
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(values)
        elif op == "unknown":
            target = parent[key] if isinstance(parent[key], dict) else parent
            if isinstance(target, dict):
                target[draw(st.text(min_size=1, max_size=12))] = draw(values)
            else:
                target.append(draw(values))
        elif op == "wrap":
            parent[key] = [parent[key]] if draw(st.booleans()) else {"value": parent[key]}
        elif op == "repeat":
            if isinstance(parent, list):
                parent.append(copy.deepcopy(parent[key]))
            else:
                parent[key] = [copy.deepcopy(parent[key])] * draw(st.integers(0, 3))
        else:
            parent[key] = type(parent[key])() if isinstance(parent[key], list | dict | str) else None
    return doc
