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
        return {k: v for k, v in asdict(self).items() if v is not None and k != "error"}


def to_json(verdicts: list[Verdict]) -> str:
    return json.dumps([v.to_json() for v in verdicts], indent=2, ensure_ascii=False)


def render(verdicts: list[Verdict], *, colour: bool = False) -> str:
    """The human report: one block per equation, a summary line per file."""
    import click

    out = []
    for v in verdicts:
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
    files: dict[str, dict[str, int]] = {}
    for v in verdicts:
        counts = files.setdefault(v.file, {})
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    for file, counts in files.items():
        summary = ", ".join(f"{counts[k]} {k}" for k in VERDICTS if k in counts)
        out.append(f"{file}: {summary}")
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
