"""Notation as data: how names, time indices and operators are spelled.

One table per output (LaTeX, plain text); printers look symbols up here and
never spell notation in f-strings of their own.
"""

from __future__ import annotations

import unicodedata

GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
).split()
ACCENTS = ("tilde", "hat", "bar", "check", "dot")

GREEK_TEXT = dict(
    zip(
        GREEK,
        "α β γ δ ε ζ η θ ι κ λ μ ν ξ π ρ σ τ υ φ χ ψ ω Γ Δ Θ Λ Ξ Π Σ Υ Φ Ψ Ω".split(),
        strict=False,
    )
)
ACCENT_TEXT = {"tilde": "\u0303", "hat": "\u0302", "bar": "\u0304", "check": "\u030c", "dot": "\u0307"}

LATEX_OPS = {
    "add": "+",
    "sub": "-",
    "mul": r"\odot",
    "div": r"\oslash",
    "matmul": r"\,",
    "transpose": r"^\top",
    "delta": r"\delta ",
    "partial": r"\frac{{\partial {num}}}{{\partial {den}}}",
    "sum_t": r"\sum_{t=1}^{T} ",
    "softmax": r"\mathrm{softmax}",
    "zero": "0",
}
TEXT_OPS = {
    "add": "+",
    "sub": "-",
    "mul": "⊙",
    "div": "⊘",
    "matmul": " ",
    "transpose": "ᵀ",
    "delta": "δ",
    "partial": "∂{num}/∂{den}",
    "sum_t": "Σ_t ",
    "softmax": "softmax",
    "zero": "0",
}


def split_name(name: str) -> tuple[str, list[str], list[str]]:
    """``h_tilde_bar`` → ("h", ["tilde", "bar"], []); ``W_xh`` → ("W", [], ["xh"])."""
    base, *rest = name.split("_")
    accents = [t for t in rest if t in ACCENTS]
    subscripts = [t for t in rest if t not in ACCENTS]
    return base, accents, subscripts


def time_index(shift: int | None, at: int | None) -> str | None:
    """The time index of a shift relative to t (or to the absolute step ``at``)."""
    if shift is None:
        return None
    if at is not None:
        return str(at + shift)
    return "t" if shift == 0 else f"t{shift:+d}"


def latex_name(name: str, shift: int | None = None, at: int | None = None, time_style: str = "sub") -> str:
    base, accents, subscripts = split_name(name)
    out = "\\" + base if base in GREEK else base
    for accent in accents:
        out = rf"\{accent}{{{out}}}"
    index = time_index(shift, at)
    sub = list(subscripts)
    sup = ""
    if index is not None:
        if time_style == "sub":
            sub.append(index)
        else:
            sup = f"^{{({index})}}"
    if sub:
        out += "_{" + ",".join(sub) + "}"
    return out + sup


def text_name(name: str, shift: int | None = None, at: int | None = None) -> str:
    base, accents, subscripts = split_name(name)
    out = GREEK_TEXT.get(base, base)
    for accent in accents:
        out += ACCENT_TEXT[accent]
    if subscripts:
        out += "_" + ",".join(subscripts)
    index = time_index(shift, at)
    if index is not None:
        out += f"[{index}]"
    return unicodedata.normalize("NFC", out)  # ȳ as one character where Unicode has one
