"""The one error a `seen` command raises for bad input: printed as one line, exit 2."""

from __future__ import annotations


class UsageError(Exception):
    """A bad argument or input file: printed as one line (`seen <command>: <message>`), exit 2."""
