"""The cell catalogue: every cell a function that reads like its paper.

``cell(name)`` builds a fresh :class:`~symrnn.cellspec.Cell`; ``cells()`` lists names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from symrnn.cellspec import Cell

_REGISTRY: dict[str, Callable[[], Cell]] = {}
_ALIASES: dict[str, str] = {}


def register(name: str, *aliases: str):
    """Add a cell function to the catalogue under ``name`` (and its aliases)."""

    def deco(fn: Callable[[], Cell]):
        _REGISTRY[name] = fn
        for alias in aliases:
            _ALIASES[alias] = name
        return fn

    return deco


class UnknownCellError(KeyError):
    def __str__(self):
        return self.args[0]


def cells() -> list[str]:
    """The names of every catalogue cell, in catalogue order."""
    _load()
    return list(_REGISTRY)


def cell(name: str) -> Cell:
    """A fresh catalogue cell by name or alias."""
    _load()
    key = _ALIASES.get(name, name)
    if key not in _REGISTRY:
        raise UnknownCellError(f"unknown cell {name!r}; valid names: {', '.join(_REGISTRY)}")
    built = _REGISTRY[key]()
    built.aliases = tuple(a for a, target in _ALIASES.items() if target == key)
    return built.validate()


FAMILIES = ("rnn", "lstm", "gru")


def _load():
    # Importing the family modules registers their cells, in catalogue order.
    for family in FAMILIES:
        importlib.import_module(f"symrnn.catalogue.{family}")
