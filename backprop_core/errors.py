"""Typed errors the core raises; the CLI prints each once and exits with its code."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

SNIPPET_CHARS = 24  # of a data file's text quoted in a message


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """`text` quoted for a message: its first `limit` characters, escaped as Python would.

    A data path may point anywhere (a symlink to a system file): a message
    shows a short piece of what it read, never a whole line.
    """
    return repr(text if len(text) <= limit else text[:limit] + "...")


def shortened(names: list[str], most: int = 8) -> str:
    """Column names for a message: each cut to a snippet, at most `most` of them."""
    shown = [n if len(n) <= SNIPPET_CHARS else n[:SNIPPET_CHARS] + "..." for n in names[:most]]
    more = f", ... ({len(names)} in all)" if len(names) > most else ""
    return ", ".join(shown) + more


def close_matches(name: str, options: Iterable[str], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The options `name` was most likely meant to be, closest first (none close enough: [])."""
    return difflib.get_close_matches(name, list(options), n=n, cutoff=cutoff)


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or nothing: every such hint bp gives."""
    match = close_matches(name, options)
    return f" (did you mean {match[0]!r}?)" if match else ""


class BpError(Exception):
    """Anything a user can cause. `exit_code` follows SPEC §6 (2: usage, config or data)."""

    exit_code: int = 2


@dataclass
class ConfigError(BpError):
    """A config or data problem, located as precisely as we know it.

    Renders as ``run.yaml:14: network.layers[1].units: expected a positive integer, got -3``.
    """

    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


class DataError(ConfigError):
    """Bad data: ragged rows, non-numeric cells, NaN, wrong width, unknown class."""


class WeightNameError(BpError):
    """An unknown or ambiguous weight name."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        self.suggestions = suggestions or []
        hint = f" (closest: {', '.join(self.suggestions)})" if self.suggestions else ""
        super().__init__(message + hint)
