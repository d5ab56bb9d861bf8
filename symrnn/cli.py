"""The ``symrnn`` command line.  Imports only click at start-up; SymPy loads per command."""

from __future__ import annotations

import os
import re
import sys

import click

from symrnn.files import replace_atomically

FORMATS = ("text", "latex", "markdown", "numpy", "numba", "json")
LOSS_NAMES = ("softmax_ce", "bce", "mse")


class UserError(click.ClickException):
    """Bad input: one clear line on stderr, exit code 2, no traceback."""

    exit_code = 2


COLOR_CHOICES = ("auto", "always", "never")


def _colour(option: str) -> bool:
    """--color: auto is on for a terminal, unless NO_COLOR is set (no-color.org) or TERM is dumb."""
    if option == "always":
        return True
    if option == "never":
        return False
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _choice(value: str, valid, what: str) -> str:
    if value not in valid:
        raise UserError(f"unknown {what} {value!r}; valid names: {', '.join(valid)}")
    return value


PYTHON_CELL = re.compile(r"^(?P<path>.+\.py):(?P<name>[A-Za-z_][A-Za-z_0-9]*)$")


def _is_python_cell(name: str) -> bool:
    return PYTHON_CELL.match(name) is not None


def _python_cell(spec: str):
    """The Cell named by ``path/to/module.py:name``: a Cell, or a function returning one, in that file.

    The module is imported as the user asked, like pytest imports a test file; nothing of the
    argument itself is evaluated (the name must be an identifier).
    """
    import importlib.util

    from symrnn.cellspec import Cell

    m = PYTHON_CELL.match(spec)
    path, attribute = m.group("path"), m.group("name")
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such file (in {spec})")
    module_name = "symrnn_user_cells_" + re.sub(r"\W", "_", os.path.abspath(path))
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise UserError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(loader_spec)
    try:
        loader_spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - the user's module failed: their error, in one line
        raise UserError(f"{path}: importing it failed: {type(e).__name__}: {e}") from None
    if not hasattr(module, attribute):
        names = sorted(
            n
            for n, v in vars(module).items()
            if isinstance(v, Cell) or (callable(v) and getattr(v, "__module__", None) == module_name)
        )
        raise UserError(f"{path} has no {attribute!r}; it defines: {', '.join(names) or 'nothing usable'}")
    value = getattr(module, attribute)
    if callable(value) and not isinstance(value, Cell):
        try:
            value = value()
        except Exception as e:  # noqa: BLE001 - the user's function failed: their error, in one line
            raise UserError(f"{spec}: calling it failed: {type(e).__name__}: {e}") from None
    if not isinstance(value, Cell):
        raise UserError(f"{spec} is a {type(value).__name__}, not a symrnn Cell or a function returning one")
    return value


def _load_cell(name: str):
    from symrnn.catalogue import UnknownCellError, cell

    if _is_python_cell(name):
        return _python_cell(name)

    try:
        return cell(name)
    except UnknownCellError as e:
        raise UserError(str(e)) from None


NOTE_SUFFIXES = (".md", ".markdown", ".tex", ".latex", ".ltx", ".txt")


def _is_note(name: str) -> bool:
    if _is_python_cell(name):
        return False
    return name.lower().endswith(NOTE_SUFFIXES) or os.sep in name or os.path.isfile(name)


def _note_cell(path: str, number: int | None):
    """The cell a note defines (``number``: 1-based, needed when it defines several)."""
    from symrnn.notes.checker import read_notes
    from symrnn.notes.errors import NotesSyntaxError

    try:
        note = read_notes(path)
    except OSError as e:
        raise UserError(f"{path}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    except NotesSyntaxError as e:
        raise UserError(str(e)) from None
    cells = note.cells
    listing = "; ".join(
        f"{i}: lines {c.lines[0]}–{c.lines[1]} (state {', '.join(c.states)})" for i, c in enumerate(cells, 1)
    )
    if not cells:
        raise UserError(f"{path}: no forward equations define a cell")
    if number is None:
        if len(cells) > 1:
            raise UserError(f"{path} defines {len(cells)} cells ({listing}); pick one with --cell N")
        number = 1
    if not 1 <= number <= len(cells):
        raise UserError(f"--cell {number}: {path} defines {len(cells)} cells ({listing})")
    chosen = cells[number - 1]
    if chosen.error is not None:
        where = f"{path}:{chosen.error.item.line}: " if chosen.error.item else f"{path}: "
        raise UserError(f"{where}cell {number} cannot be derived: {chosen.error}")
    return chosen


def _derivation(name: str, loss_name: str | None, cell_number: int | None = None, structure: dict | None = None):
    """The derivation of a catalogue cell, or of the cell a note file defines (with the note's loss).

    ``structure``: ``at``, ``reduction`` and ``mask`` of :func:`symrnn.derive` (None: the defaults).
    """
    from symrnn.derivation import derive as derive_plain

    def derive_cell(cell, loss):
        try:
            return derive_plain(cell, loss, **(structure or {}))
        except ValueError as e:  # a loss structure with loss "upstream"
            raise UserError(str(e)) from None

    if _is_note(name):
        from symrnn.notes.build import NoteCellError

        note = _note_cell(name, cell_number)
        try:
            loss = loss_name or note.derivation_loss()
        except NoteCellError as e:
            raise UserError(f"{name}: {e}") from None
        return derive_cell(note.cell, loss)
    if cell_number is not None:
        raise UserError("--cell picks a cell of a note file; a catalogue name is one cell")
    return derive_cell(_load_cell(name), loss_name or "softmax_ce")


def write_atomically(path: str, text, *, force: bool, ours_ok: bool = False) -> None:
    """Write via a temporary file and rename; never replace an existing file unless forced.

    ``ours_ok``: a file that carries symrnn's mark (one symrnn wrote) may be replaced without force.
    """
    from symrnn.export.ownership import is_generated
    from symrnn.files import WriteError

    if os.path.isdir(path):
        raise UserError(f"{path}: is a directory")
    if os.path.lexists(path) and not force and not (ours_ok and is_generated(path)):
        raise UserError(f"{path} exists and symrnn did not write it; pass --force to replace it")
    try:
        replace_atomically(path, text)
    except WriteError as e:
        raise UserError(str(e)) from None


_BUG = "this is a bug in symrnn, not a mistake in your input; run again with --debug for the traceback"


class _Main(click.Group):
    """The command group: an unexpected exception is exit 4 with one line, its traceback only with --debug."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            if ctx.meta.get("symrnn_debug"):
                raise
            click.echo(f"symrnn: internal error ({type(error).__name__}: {error}); {_BUG}", err=True)
            ctx.exit(4)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symrnn")
@click.option("--debug", is_flag=True, help="show the traceback of an internal error (exit 4)")
@click.pass_context
def main(ctx, debug):
    """Symbolic BPTT for recurrent cells: derive, generate code, verify."""
    ctx.meta["symrnn_debug"] = debug


@main.command("list")
def list_cells():
    """The catalogue: name, family, source and convention of every cell."""
    from symrnn.catalogue import cell, cells

    rows = [(name, c.family, c.source, c.convention) for name in cells() for c in [cell(name)]]
    width = max(len(r[0]) for r in rows)
    fam = max(len(r[1]) for r in rows)
    for name, family, source, convention in rows:
        click.echo(f"{name:<{width}}  {family:<{fam}}  {source} — {convention}")


@main.command()
@click.argument("cell_name", metavar="CELL|NOTES.md")
@click.option(
    "--loss",
    "loss_name",
    default=None,
    help="softmax_ce (default), bce, mse or upstream (a layer: given Δ_t); a note's own loss by default",
)
@click.option("--cell", "cell_number", type=click.IntRange(1), help="which cell of a note that defines several")
@click.option(
    "--at",
    "at",
    default="every",
    show_default=True,
    help="where the loss is read: every step, or each sequence's last real step (sequence classification)",
)
@click.option("--reduction", default="sum", show_default=True, help="sum or mean of the loss terms read")
@click.option("--mask", is_flag=True, help="a 0/1 mask m_t marks each example's real steps (ragged lengths)")
@click.option("--format", "fmt", default="text", show_default=True, help="text, latex, markdown, numpy, numba or json")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to FILE (atomically) instead of stdout")
@click.option("--force", is_flag=True, help="replace FILE even if symrnn did not write it")
def derive(cell_name, loss_name, cell_number, at, reduction, mask, fmt, output, force):
    """Derive the forward equations and BPTT recurrences of CELL, or of the cell a note defines.

    ``--loss upstream`` derives the cell as a layer: no readout, the recursions start from given
    upstream gradients Δ_t (δh_t = Δ_t + …).  Every derivation prints the input gradients δx_t.
    """
    _choice(fmt, FORMATS, "format")
    if loss_name is not None:
        _choice(loss_name, (*LOSS_NAMES, "upstream"), "loss")
    _choice(at, ("every", "last"), "--at")
    _choice(reduction, ("sum", "mean"), "--reduction")
    import json

    d = _derivation(cell_name, loss_name, cell_number, {"at": at, "reduction": reduction, "mask": mask})
    if fmt in ("numpy", "numba") and (d.loss.name == "upstream" or not d.structure.is_default):
        what = "the upstream form" if d.loss.name == "upstream" else f"a loss {d.structure.describe()}"
        raise UserError(
            f"--format {fmt} writes a standalone module with J = Σ_t Σ_batch L_t; for {what} use the "
            "Python API (d.numpy(), d.layer(), d.torch_module()), whose code runs this derivation"
        )
    if fmt == "text":
        out = d.text()
    elif fmt == "latex":
        out = d.latex()
    elif fmt == "markdown":
        out = d.markdown()
    elif fmt == "json":
        out = json.dumps(d.to_json(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "numba":
        out = d.numpy_source(backend="numba")
    else:
        out = d.numpy_source()
    if output:
        if fmt == "text":  # the mark by which a later `derive -o` knows the file as its own
            out = f"# Generated by symrnn: symrnn derive {cell_name} --format text\n{out}"
        elif fmt == "json":
            out = (
                json.dumps(
                    {"generated_by": f"Generated by symrnn: symrnn derive {cell_name} --format json", **d.to_json()},
                    indent=2,
                    ensure_ascii=False,
                )
                + "\n"
            )
        write_atomically(output, out, force=force, ours_ok=True)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(out, nl=False)


@main.command()
@click.argument("cell_name", metavar="CELL|NOTES.md")
@click.option(
    "--loss", "loss_name", default=None, help="softmax_ce (default), bce or mse; a note's own loss by default"
)
@click.option("--cell", "cell_number", type=click.IntRange(1), help="which cell of a note that defines several")
@click.option("--hidden", default=3, show_default=True, type=click.IntRange(1, 512))
@click.option("--input", "input_size", default=2, show_default=True, type=click.IntRange(1, 512))
@click.option("--output", "output_size", default=2, show_default=True, type=click.IntRange(1, 512))
@click.option("--steps", default=4, show_default=True, type=click.IntRange(1, 1000))
@click.option("--batch", default=2, show_default=True, type=click.IntRange(1, 512))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--dtype", default="float64", show_default=True, type=click.Choice(["float64", "float32"]))
@click.option(
    "--color", "color", default="auto", show_default=True, help="colour ok/FAIL: auto (on a terminal), always, never"
)
@click.option("--quiet", "-q", is_flag=True, help="print the summary line only (and what failed)")
def gradcheck(
    cell_name, loss_name, cell_number, hidden, input_size, output_size, steps, batch, seed, dtype, color, quiet
):
    """Check the generated gradients of CELL (or of a note's cell) against central differences (exit 1 on failure)."""
    if loss_name is not None:
        _choice(loss_name, LOSS_NAMES, "loss")
    from symrnn.checks import check_generated, failure_message, failures
    from symrnn.problems import random_problem

    d = _derivation(cell_name, loss_name, cell_number)
    loss_name = d.loss.name
    params, xs, ys, initial = random_problem(
        d, hidden_size=hidden, input_size=input_size, output_size=output_size, steps=steps, batch=batch, seed=seed
    )
    if dtype == "float32":
        params, initial = ({k: v.astype("float32") for k, v in a.items()} for a in (params, initial))
        xs, ys = xs.astype("float32"), ys.astype("float32")
        tolerances = {"atol": 1e-4, "rtol": 1e-3}
    else:
        tolerances = {"atol": 1e-7, "rtol": 1e-5}
    # the generated forward, loss and gradient against the evaluator's float64 forward (and its differences)
    report = check_generated(d, params, xs, ys, initial, module=d.numpy(), eps=1e-6, **tolerances)
    _choice(color, COLOR_CHOICES, "--color")
    colour = _colour(color)

    def result(passed: bool) -> str:
        word = "ok" if passed else "FAIL"
        return click.style(word, fg="green" if passed else "red", bold=not passed) if colour else word

    if not quiet:
        click.echo(
            f"{cell_name} ({loss_name}, {dtype}): hidden {hidden}, input {input_size}, output {output_size}, "
            f"T {steps}, batch {batch}, seed {seed}"
        )
        click.echo("checked against the evaluator's float64 forward and central differences of its loss")
        click.echo(
            f"{'part':<9} {'quantity':<16} {'worst index':<12} {'generated':>14} {'reference':>14} "
            f"{'abs err':>10} {'rho':>10}  result"
        )
        for e in report:
            click.echo(
                f"{e.part:<9} {e.parameter:<16} {str(list(e.index)):<12} {e.analytic:>14.6e} {e.numeric:>14.6e} "
                f"{e.abs_error:>10.2e} {e.rel_error:>10.2e}  {result(e.passed)}",
                color=colour,
            )
    failed = failures(report)
    click.echo(
        f"{cell_name}: {len(report) - len(failed)} passed, {len(failed)} failed"
        if quiet
        else f"{len(report) - len(failed)} passed, {len(failed)} failed"
    )
    if failed:
        click.echo(failure_message(report, **tolerances))
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("cell_name", metavar="CELL")
@click.option("--format", "fmt", default="text", show_default=True, help="text or latex")
def show(cell_name, fmt):
    """Print CELL's source, convention and forward equations."""
    _choice(fmt, ("text", "latex"), "format")
    from symrnn.derivation import derive as derive_cell

    d = derive_cell(_load_cell(cell_name))
    cell_eqs = d.cell_equations
    if fmt == "latex":
        click.echo(r"\begin{align}")
        click.echo(" \\\\\n".join(eq.latex().replace(" = ", " &= ", 1) for eq in cell_eqs))
        click.echo(r"\end{align}")
        return
    c = d.cell
    click.echo(f"{c.name} ({c.family}): {c.summary}")
    click.echo(f"source: {c.source}")
    click.echo(f"convention: {c.convention}")
    if c.aliases:
        click.echo(f"aliases: {', '.join(c.aliases)}")
    for eq in cell_eqs:
        click.echo(f"  {eq.text()}")


@main.command()
@click.argument("cell_a", metavar="A")
@click.argument("cell_b", metavar="B")
def compare(cell_a, cell_b):
    """Decide whether cells A and B compute the same function (exit 0) or not (exit 1)."""
    from symrnn.equivalence import compare as compare_cells

    result = compare_cells(_load_cell(cell_a), _load_cell(cell_b))
    click.echo(str(result))
    sys.exit(0 if result.equivalent else 1)


@main.command()
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="print a JSON list of verdicts instead of the report")
@click.option("--format", "fmt", default="text", show_default=True, help="text, json or html (the report as a page)")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="also write the report as an HTML page")
@click.option("--force", is_flag=True, help="replace the --html file even if symrnn did not write it")
@click.option(
    "--only",
    metavar="VERDICTS",
    help="list only these verdicts, comma-separated (wrong, unchecked, holds, warning, error, definition); "
    "the summary still counts every one",
)
@click.option(
    "--color",
    "color",
    default="auto",
    show_default=True,
    help="colour the verdicts: auto (on a terminal), always, never",
)
@click.option("--quiet", "-q", is_flag=True, help="print the summary only (one line per file)")
@click.option("--debug", is_flag=True, help="show the traceback of an internal error")
def check(files, as_json, fmt, html_path, force, only, color, quiet, debug):
    """Check hand-written derivations in notes (.md, .tex, .ipynb; - reads standard input).

    Exit 0 when every claim was checked and holds, 1 when a claim is wrong, 2 when a
    file cannot be read, 3 when nothing is wrong but some claims are unchecked (the
    summary says how many and why), 4 on an internal error (a bug of the checker).
    """
    from symrnn.notes.checker import check as check_note
    from symrnn.notes.errors import NotesSyntaxError
    from symrnn.notes.verdicts import EXIT_INTERNAL, VERDICTS, exit_code, render, summary, to_json

    meta = click.get_current_context().meta
    debug = meta["symrnn_debug"] = debug or bool(meta.get("symrnn_debug"))
    shown = _only(only, VERDICTS)
    _choice(fmt, ("text", "json", "html"), "format")
    _choice(color, COLOR_CHOICES, "--color")
    if quiet and (as_json or fmt != "text"):
        raise UserError("--quiet prints the text summary; it does not combine with --json or --format " + fmt)
    if list(files).count("-") > 1:
        raise UserError("standard input (-) can be read once")
    verdicts, unreadable, crashed = [], [], []
    for path in files:
        try:
            verdicts.extend(check_note(path))
        except NotesSyntaxError as e:  # NoteInputError: the file cannot be read at all
            unreadable.append(str(e))
        except Exception as e:  # noqa: BLE001 - one file's bug is reported as a bug, and the others still run
            if debug:
                raise
            crashed.append(f"{path}: internal error of the checker ({type(e).__name__}: {e}); {_BUG}")
    listed = [v for v in verdicts if shown is None or v.verdict in shown]
    if html_path or fmt == "html":
        page = _check_page(files, verdicts)
        if html_path:
            write_atomically(html_path, page, force=force, ours_ok=True)
            click.echo(f"wrote {html_path}", err=True)
    if fmt == "html":
        click.echo(page, nl=False)
    elif as_json or fmt == "json":
        click.echo(to_json(listed))
    elif verdicts and quiet:
        click.echo("\n".join(summary(verdicts)))
    elif verdicts:
        colour = _colour(color)
        click.echo(render(verdicts, colour=colour, only=shown), color=colour)
    for message in unreadable + crashed:
        click.echo(message, err=True)
    if debug:
        import traceback

        for v in verdicts:
            if v.error is not None:
                click.echo(f"{v.file}:{v.line}:{v.column}: traceback of the internal error:", err=True)
                click.echo("".join(traceback.format_exception(v.error)), err=True)
    code = exit_code(verdicts, len(unreadable))
    sys.exit(EXIT_INTERNAL if crashed and code in (0, 3) else code)


def _only(text: str | None, valid) -> tuple[str, ...] | None:
    if text is None:
        return None
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        raise UserError(f"--only {text!r}: unknown verdict {', '.join(unknown) or '(none)'}; valid: {', '.join(valid)}")
    return names


def _check_page(files, verdicts) -> str:
    """The HTML report of ``symrnn check``: every readable Markdown note rendered with its verdicts."""
    from symrnn.printing.check_report import NoteReport, check_report_html

    notes = []
    for path in dict.fromkeys(files):
        text = None
        if path.lower().endswith((".md", ".markdown", ".tex", ".latex", ".ltx")):
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError):
                text = None  # already reported as unreadable; its equations (none) are listed
        notes.append(NoteReport(path, text, [v.to_json() for v in verdicts if v.file == path]))
    return check_report_html(notes)


@main.command()
@click.argument("cell_names", metavar="[CELL]...", nargs=-1)
@click.option("--out", "out_dir", default="derivations", show_default=True, type=click.Path(file_okay=False))
@click.option("--formats", default="md,tex", show_default=True, help="comma-separated: md, tex, pdf, html")
@click.option(
    "--loss", "loss_name", default="softmax_ce", show_default=True, help="softmax_ce, bce or mse (a note: its own loss)"
)
@click.option("--force", is_flag=True, help="also replace files in DIR that symrnn did not generate")
def export(cell_names, out_dir, formats, loss_name, force):
    """Write step-by-step derivation documents (and pictures) for CELLs, or every cell and an index.

    A CELL is a catalogue name, a note (its documents are named after the file), or
    path/to/module.py:name (a Cell, or a function returning one, in that file).

    Files that carry symrnn's mark are refreshed; other files are never replaced without --force.
    The files of a run are replaced all or none.  Exit 1 when something asked for could not be
    made (pdf without pdflatex); exit 2, with one line naming the path, when a file cannot be written.
    """
    _choice(loss_name, LOSS_NAMES, "loss")
    from symrnn.export import ExportError, export_documents, parse_formats
    from symrnn.files import WriteError

    items = [_export_item(name, loss_name) for name in cell_names]  # a bad name: one line, exit 2
    try:
        result = export_documents(items, out_dir, parse_formats(formats), force=force, loss=loss_name)
    except (ExportError, WriteError) as e:
        raise UserError(str(e)) from None
    click.echo(f"{out_dir}: {len(result.written)} written, {len(result.unchanged)} unchanged", err=True)
    for sentence in result.missing:
        click.echo(f"not made: {sentence}", err=True)
    sys.exit(1 if result.missing else 0)


def _export_item(name: str, loss_name: str):
    """A catalogue name as it is, or a note's or Python module's cell as an export Source."""
    import copy

    from symrnn.derivation import derive as derive_cell
    from symrnn.export import Source

    if _is_python_cell(name):
        return Source(derive_cell(_python_cell(name), loss_name), name)
    if _is_note(name):
        d = _derivation(name, None, None)
        named = copy.copy(d.cell)  # the documents are named after the note: notes/rnn.md → rnn.md, rnn.tex
        named.name = os.path.splitext(os.path.basename(name))[0]
        return Source(derive_cell(named, d.loss), name)
    _load_cell(name)
    return name


@main.command()
@click.argument("cell_names", metavar="CELL...", nargs=-1, required=True)
@click.option("--steps", default=100, show_default=True, type=click.IntRange(2, 2000), help="distance T covered")
@click.option("--scale", default=1.0, show_default=True, type=float, help="S: weight entries N(0, S²/n_cols)")
@click.option("--forget-bias", default=1.0, show_default=True, type=float, help="B: bias of the gate keeping the state")
@click.option("--input-scale", default=1.0, show_default=True, type=float, help="σ_x: inputs N(0, σ_x²)")
@click.option("--hidden", default=32, show_default=True, type=click.IntRange(1, 1024))
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1, 100), help="parameter draws 0 … N-1")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="write the plot to FILE.png or FILE.svg")
@click.option("--force", is_flag=True, help="replace the plot file even if symrnn did not write it")
@click.option("--json", "as_json", is_flag=True, help="print the measurements as JSON")
def flow(cell_names, steps, scale, forget_bias, input_scale, hidden, seeds, plot_path, force, as_json):
    """Gradient flow: ‖∂L_T/∂s_k‖ by distance T - k for CELLs, the fitted rate per step, and a plot."""
    import math

    if not (scale > 0 and math.isfinite(scale)):
        raise UserError(f"--scale must be a positive number, got {scale}")
    if not (input_scale >= 0 and math.isfinite(input_scale)):
        raise UserError(f"--input-scale must be a number ≥ 0, got {input_scale}")
    if not math.isfinite(forget_bias):
        raise UserError(f"--forget-bias must be a finite number, got {forget_bias}")
    fmt = os.path.splitext(plot_path)[1].lower().lstrip(".") if plot_path else None
    if plot_path:
        if fmt not in ("png", "svg"):
            raise UserError(f"--plot needs a .png or .svg file name, got {plot_path}")
        from symrnn.export.ownership import is_generated

        if os.path.lexists(plot_path) and not force and not is_generated(plot_path):
            raise UserError(f"{plot_path} exists; pass --force to replace it (symrnn did not write it)")
        try:
            import matplotlib  # noqa: F401 - fail early, before measuring
        except ImportError:
            raise UserError("--plot needs matplotlib: pip install 'symrnn[plot]'") from None
    cells = [_load_cell(name) for name in cell_names]
    import json

    from symrnn.gradient_flow.measurement import Initialisation, measure
    from symrnn.gradient_flow.report import flow_table

    init = Initialisation(scale=scale, forget_bias=forget_bias, input_scale=input_scale, hidden_size=hidden)
    measurements = [measure(c, steps=steps, init=init, seeds=range(seeds)) for c in cells]
    if as_json:
        click.echo(json.dumps({"cells": [m.to_json() for m in measurements]}, indent=2, ensure_ascii=False))
    else:
        click.echo(flow_table(measurements), nl=False)
    if plot_path:
        from symrnn.gradient_flow.plot import render

        creator = "Generated by symrnn flow: " + " ".join(c.name for c in cells)
        write_atomically(plot_path, render(measurements, fmt, creator=creator), force=force, ours_ok=True)
        click.echo(f"wrote {plot_path}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
