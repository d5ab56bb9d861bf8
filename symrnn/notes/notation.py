"""A note's own notation: its symbols as IR names, and IR printed back the note's way.

Every distinct symbol of a note (``\\tilde{c}``, ``\\Gamma_u``, ``W^{h}``) gets an
IR name (``c_tilde``, ``Gamma_u``, ``W_h``); the :class:`Notation` keeps the way
back, the note's time style (``h_t``, ``h^{(t)}``, ``h^t``, ``h^{\\langle t \\rangle}``),
its element-wise product sign and the names it gave to gradients (``\\delta_u``
for ∂J/∂z_u), so a formula the checker derived is shown as the student would
write it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from symrnn import ir
from symrnn.ir import Node
from symrnn.printing.latex import LatexPrinter
from symrnn.printing.notation import GREEK

from .tree import Symbol, TimeIndex

_INVALID = re.compile(r"[^A-Za-z0-9,]")
PRODUCT_LATEX = {"odot": r"\odot", "*": "*", "circ": r"\circ", "ast": r"\ast", "otimes": r"\otimes"}


def symbol_key(symbol: Symbol) -> tuple:
    """What identifies a symbol apart from its step: h_{t-1} and h_t share a key."""
    return (symbol.name, symbol.accents, symbol.sub, symbol.sup, symbol.primes)


# Accents kept under another name than their command (tree.Symbol.accents).
_ACCENT_COMMANDS = {"rightarrow": "overrightarrow", "leftarrow": "overleftarrow"}


def _base_latex(symbol: Symbol) -> str:
    name = symbol.name
    out = "\\" + name if name in GREEK or name in ("eta", "varphi", "ell") else name
    if len(name) > 1 and name not in GREEK and name not in ("eta", "varphi", "ell"):
        out = rf"\mathrm{{{name}}}"
    for accent in symbol.accents:
        out = rf"\{_ACCENT_COMMANDS.get(accent, accent)}{{{out}}}"
    return out


@dataclass
class Notation:
    """IR names ↔ note symbols, and how the note writes steps, products and gradients."""

    names: dict[tuple, str] = field(default_factory=dict)  # symbol key → IR name
    symbols: dict[str, Symbol] = field(default_factory=dict)  # IR name → a symbol as written
    time_styles: Counter = field(default_factory=Counter)
    product_signs: Counter = field(default_factory=Counter)
    gradient_names: dict[str, Symbol] = field(default_factory=dict)  # IR name v → the note's name of ∂J/∂v
    loss_symbol: Symbol | None = None
    aliases: dict[str, str] = field(default_factory=dict)  # derivation name → IR name of the note

    def ir_name(self, symbol: Symbol) -> str:
        """The IR name of ``symbol`` (any step); new symbols get a fresh valid name."""
        key = symbol_key(symbol)
        if key in self.names:
            return self.names[key]
        parts = [_INVALID.sub("", symbol.name) or "v", *symbol.accents]
        parts += [_INVALID.sub("", label) for label in (symbol.sub, symbol.sup) if label]
        name = "_".join(p for p in parts if p) + "'" * symbol.primes
        if not name[0].isalpha():
            name = "v" + name
        candidate, n = name, 2
        while candidate in self.symbols:
            candidate, n = f"{name}{n}", n + 1
        self.names[key] = candidate
        self.symbols[candidate] = Symbol(symbol.name, symbol.accents, symbol.sub, symbol.sup, None, symbol.primes)
        if symbol.time is not None:
            self.time_styles[symbol.time.style] += 1
        return candidate

    def note_time(self, symbol: Symbol) -> None:
        if symbol.time is not None:
            self.time_styles[symbol.time.style] += 1

    @property
    def time_style(self) -> str:
        return self.time_styles.most_common(1)[0][0] if self.time_styles else "sub"

    @property
    def product_sign(self) -> str:
        return PRODUCT_LATEX[self.product_signs.most_common(1)[0][0]] if self.product_signs else r"\odot"

    # ------------------------------------------------------------ printing
    def symbol_latex(self, symbol: Symbol, index: str | None, style: str | None = None) -> str:
        """``symbol`` at step ``index`` ("t-1", "0" or None) in the note's style."""
        style = style or self.time_style
        out = _base_latex(symbol)
        sub = [symbol.sub] if symbol.sub else []
        sup = symbol.sup
        if index is not None and style == "sub":
            sub.append(index)
        if sub:
            out += "_{" + ",".join(sub) + "}"
        if index is not None and style != "sub":
            time = {"paren": f"({index})", "angle": rf"\langle {index} \rangle", "sup": index}[style]
            sup = f"{sup},{time}" if sup else time
        if sup:
            out += "^{" + sup + "}"
        return out + "'" * symbol.primes

    def latex(self, name: str, shift: int | None, at: int | None = None) -> str:
        name = self.aliases.get(name, name)
        symbol = self.symbols.get(name) or Symbol(name)
        return self.symbol_latex(symbol, _index(shift, at))

    def gradient_latex(self, name: str, shift: int | None, at: int | None = None) -> str:
        """∂J/∂v in the note's words: its δ name if it gave one, else δv (or ∂J/∂W for parameters)."""
        name = self.aliases.get(name, name)
        index = _index(shift, at)
        if name in self.gradient_names:
            return self.symbol_latex(self.gradient_names[name], index)
        target = self.latex(name, shift, at)
        if shift is None:
            loss = self.symbol_latex(self.loss_symbol, None) if self.loss_symbol else "J"
            return rf"\frac{{\partial {loss}}}{{\partial {target}}}"
        return rf"\delta {target}"

    def print(self, node: Node, at: int | None = None) -> str:
        return NotePrinter(self, at).doprint(node)


def _index(shift: int | None, at: int | None) -> str | None:
    if shift is None:
        return None
    if at is not None:
        return str(at + shift)
    return "t" if shift == 0 else f"t{shift:+d}"


def time_text(time: TimeIndex) -> str:
    return str(time)


class NotePrinter(LatexPrinter):
    """The LaTeX printer with the note's names, step style and product sign."""

    def __init__(self, notation: Notation, at: int | None = None):
        super().__init__(at=at)
        self.notation = notation
        self.ops = {**self.ops, "mul": notation.product_sign}

    def name(self, name, shift):
        return self.notation.latex(name, shift, self.settings["at"])

    def _print_var(self, node):
        if node.kind == ir.GRAD:
            return self.notation.gradient_latex(node.name, node.shift, self.settings["at"])
        return self.name(node.name, node.shift)

    def _print_transpose(self, node):
        inner = self.paren(node.args[0], 100)
        if "^" in inner and not inner.endswith(r"\right)"):
            inner = "{" + inner + "}"  # {a^{(t)}}^\top: no double superscript
        return inner + r"^\top"
