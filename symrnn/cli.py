"""The ``symrnn`` command line.  Imports only click at start-up; SymPy loads per command."""

from __future__ import annotations

import os
import sys
import tempfile

import click

FORMATS = ("text", "latex", "markdown", "numpy", "json")
LOSS_NAMES = ("softmax_ce", "bce", "mse")


class UserError(click.ClickException):
    """Bad input: one clear line on stderr, exit code 2, no traceback."""

    exit_code = 2


def _choice(value: str, valid, what: str) -> str:
    if value not in valid:
        raise UserError(f"unknown {what} {value!r}; valid names: {', '.join(valid)}")
    return value


def _load_cell(name: str):
    from symrnn.catalogue import UnknownCellError, cell

    try:
        return cell(name)
    except UnknownCellError as e:
        raise UserError(str(e)) from None


def write_atomically(path: str, text: str, *, force: bool) -> None:
    """Write via a temporary file and rename; never replace an existing file unless forced."""
    if os.path.exists(path) and not force:
        raise UserError(f"{path} exists; pass --force to replace it")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UserError(f"cannot write {path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".symrnn-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symrnn")
def main():
    """Symbolic BPTT for recurrent cells: derive, generate code, verify."""


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
@click.argument("cell_name", metavar="CELL")
@click.option("--loss", "loss_name", default="softmax_ce", show_default=True, help="softmax_ce, bce or mse")
@click.option("--format", "fmt", default="text", show_default=True, help="text, latex, markdown, numpy or json")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to FILE (atomically) instead of stdout")
@click.option("--force", is_flag=True, help="replace FILE if it exists")
def derive(cell_name, loss_name, fmt, output, force):
    """Derive the forward equations and BPTT recurrences of CELL."""
    _choice(fmt, FORMATS, "format")
    _choice(loss_name, LOSS_NAMES, "loss")
    import json

    from symrnn.derivation import derive as derive_cell

    d = derive_cell(_load_cell(cell_name), loss_name)
    if fmt == "text":
        out = d.text()
    elif fmt == "latex":
        out = d.latex()
    elif fmt == "markdown":
        out = d.markdown()
    elif fmt == "json":
        out = json.dumps(d.to_json(), indent=2, ensure_ascii=False) + "\n"
    else:
        out = d.numpy_source()
    if output:
        write_atomically(output, out, force=force)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(out, nl=False)


@main.command()
@click.argument("cell_name", metavar="CELL")
@click.option("--loss", "loss_name", default="softmax_ce", show_default=True)
@click.option("--hidden", default=3, show_default=True, type=click.IntRange(1, 512))
@click.option("--input", "input_size", default=2, show_default=True, type=click.IntRange(1, 512))
@click.option("--output", "output_size", default=2, show_default=True, type=click.IntRange(1, 512))
@click.option("--steps", default=4, show_default=True, type=click.IntRange(1, 1000))
@click.option("--batch", default=2, show_default=True, type=click.IntRange(1, 512))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--dtype", default="float64", show_default=True, type=click.Choice(["float64", "float32"]))
def gradcheck(cell_name, loss_name, hidden, input_size, output_size, steps, batch, seed, dtype):
    """Check CELL's generated gradients against central differences (exit 1 on failure)."""
    _choice(loss_name, LOSS_NAMES, "loss")
    from symrnn.checks import gradcheck_report
    from symrnn.derivation import derive as derive_cell
    from symrnn.problems import random_problem, split_initial_states, with_initial_states

    d = derive_cell(_load_cell(cell_name), loss_name)
    module = d.numpy()
    params, xs, ys, initial = random_problem(
        d, hidden_size=hidden, input_size=input_size, output_size=output_size, steps=steps, batch=batch, seed=seed
    )
    fn = split_initial_states(module.loss_and_grads, list(d.cell.states))
    everything = with_initial_states(params, initial)
    if dtype == "float32":
        low = {k: v.astype("float32") for k, v in everything.items()}
        analytic = fn(low, xs.astype("float32"), ys.astype("float32"))[1]
        report = gradcheck_report(fn, everything, xs, ys, eps=1e-6, atol=1e-4, rtol=1e-3, analytic_grads=analytic)
    else:
        report = gradcheck_report(fn, everything, xs, ys, eps=1e-6, atol=1e-7, rtol=1e-5)
    click.echo(
        f"{cell_name} ({loss_name}, {dtype}): hidden {hidden}, input {input_size}, output {output_size}, T {steps}, batch {batch}, seed {seed}"
    )
    click.echo(
        f"{'parameter':<12} {'worst index':<12} {'analytic':>14} {'numeric':>14} {'abs err':>10} {'rho':>10}  result"
    )
    for e in report:
        click.echo(
            f"{e.parameter:<12} {str(list(e.index)):<12} {e.analytic:>14.6e} {e.numeric:>14.6e} "
            f"{e.abs_error:>10.2e} {e.rel_error:>10.2e}  {'ok' if e.passed else 'FAIL'}"
        )
    failed = [e for e in report if not e.passed]
    click.echo(f"{len(report) - len(failed)} passed, {len(failed)} failed")
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


if __name__ == "__main__":  # pragma: no cover
    main()
