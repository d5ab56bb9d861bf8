"""The report of ``symrnn check``: one verdict per equation, for people and as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

DEFINITION, HOLDS, WRONG, WARNING, UNCHECKED, ERROR = "definition", "holds", "wrong", "warning", "unchecked", "error"
VERDICTS = (DEFINITION, HOLDS, WRONG, WARNING, UNCHECKED, ERROR)

_COLOURS = {HOLDS: "green", WRONG: "red", WARNING: "yellow", UNCHECKED: "blue", ERROR: "red", DEFINITION: None}


@dataclass
class Verdict:
    """What the checker says of one equation of a note.

    ``counterexample`` (wrong claims): the sizes and step where the two sides
    differ and both values; ``expected_latex``: the right-hand side that holds,
    in the note's notation, where the checker can write one.
    """

    file: str
    line: int
    column: int
    latex: str
    verdict: str
    message: str
    kind: str = ""
    expected_latex: str | None = None
    counterexample: dict | None = field(default=None)
    construct: str | None = None  # what could not be read (unreadable math)
    error: Exception | None = field(default=None, repr=False, compare=False)  # an internal error's exception

    def to_json(self) -> dict:
        """The verdict as a JSON object (fields that are None left out; never the exception)."""
        out = {k: v for k, v in asdict(self).items() if v is not None and k != "error"}
        if self.verdict == UNCHECKED:
            out["reason"] = reason_class(self)  # new: the summary's name for why
        return out


def to_json(verdicts: list[Verdict]) -> str:
    return json.dumps([v.to_json() for v in verdicts], indent=2, ensure_ascii=False)


# Exit codes of ``symrnn check`` (issue 14): 0 only when every claim was checked and holds.
EXIT_OK, EXIT_WRONG, EXIT_UNREADABLE, EXIT_UNCHECKED, EXIT_INTERNAL = 0, 1, 2, 3, 4
CLAIM_VERDICTS = (HOLDS, WRONG, UNCHECKED, WARNING, ERROR)


def reason_class(v: Verdict) -> str:
    """A short name for why a claim is unchecked, for the summary ("cannot be read", …)."""
    if v.kind == "unreadable":
        return "cannot be read" + (f" ({v.construct})" if v.construct else "")
    text = v.message.split(";")[0]
    if text.startswith("needs line"):
        return text.split(":")[0].replace("needs", "need")  # "need line 19, which cannot be read"
    for stop in (":", " ("):
        if stop in text:
            text = text.split(stop)[0]
    words = text.split()
    return " ".join(words[:8]) + (" …" if len(words) > 8 else "")


def exit_code(verdicts: list[Verdict], unreadable_files: int = 0) -> int:
    """The exit code for these verdicts (2 when some file could not be read at all)."""
    said = {v.verdict for v in verdicts}
    if unreadable_files:
        return EXIT_UNREADABLE
    if WRONG in said:
        return EXIT_WRONG
    if ERROR in said:
        return EXIT_INTERNAL
    if UNCHECKED in said:
        return EXIT_UNCHECKED
    return EXIT_OK


def summary(verdicts: list[Verdict]) -> list[str]:
    """One line per file: how many claims hold, are wrong, and are unchecked, and why."""
    files: dict[str, list[Verdict]] = {}
    for v in verdicts:
        files.setdefault(v.file, []).append(v)
    out = []
    for file, these in files.items():
        counts = {k: sum(1 for v in these if v.verdict == k) for k in VERDICTS}
        claims = sum(counts[k] for k in CLAIM_VERDICTS)
        parts = [f"{counts[HOLDS]} hold"]
        if counts[WRONG]:
            parts.append(f"{counts[WRONG]} WRONG (lines {_lines(these, WRONG)})")
        if counts[UNCHECKED]:
            reasons: dict[str, int] = {}
            for v in these:
                if v.verdict == UNCHECKED:
                    reasons[reason_class(v)] = reasons.get(reason_class(v), 0) + 1
            why = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
            parts.append(f"{counts[UNCHECKED]} unchecked ({why})")
        if counts[WARNING]:
            parts.append(f"{counts[WARNING]} warning")
        if counts[ERROR]:
            parts.append(f"{counts[ERROR]} internal error (lines {_lines(these, ERROR)}; a bug of the checker)")
        out.append(f"{file}: {claims} claims: " + ", ".join(parts) + f"; {counts[DEFINITION]} definitions")
    return out


def _lines(verdicts: list[Verdict], verdict: str) -> str:
    return ", ".join(str(v.line) for v in verdicts if v.verdict == verdict)


def render(verdicts: list[Verdict], *, colour: bool = False, only: tuple[str, ...] | None = None) -> str:
    """The human report: the summary first, then one block per equation.

    Args:
        verdicts: every verdict (the summary counts them all).
        colour: ANSI colours for a terminal.
        only: list only these verdicts (e.g. ("wrong", "unchecked")); None lists all.
    """
    import click

    out = list(summary(verdicts))
    shown = [v for v in verdicts if only is None or v.verdict in only]
    if shown and out:
        out.append("")
    for v in shown:
        tag = v.verdict.upper() if v.verdict in (WRONG, ERROR) else v.verdict
        if colour and _COLOURS.get(v.verdict):
            tag = click.style(tag, fg=_COLOURS[v.verdict], bold=v.verdict in (WRONG, ERROR))
        out.append(f"{v.file}:{v.line}:{v.column}: {tag}: {v.latex}")
        if v.message:
            out.extend("    " + line for line in v.message.splitlines())
        if v.expected_latex:
            out.append(f"    expected: {v.expected_latex}")
        if v.counterexample:
            out.extend("    " + line for line in counterexample_text(v.counterexample).splitlines())
    return "\n".join(out)


def counterexample_text(example: dict) -> str:
    sizes = ", ".join(f"{k} {v}" for k, v in example["sizes"].items())
    bindings = example.get("bindings") or ({"t": example["t"]} if example.get("t") is not None else {})
    where = (" at " + ", ".join(f"{k} = {v}" for k, v in bindings.items())) if bindings else ""
    lines = [f"counterexample ({sizes}, T = {example['steps']}{where}, seed {example['seed']}):"]
    lines.append(f"  left side:  {example['left']}")
    lines.append(f"  right side: {example['right']}")
    if example.get("functions"):
        lines.append("  with " + ", ".join(f"{k} = {v}" for k, v in example["functions"].items()))
    return "\n".join(lines)
