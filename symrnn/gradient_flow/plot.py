"""The gradient norm against distance, one panel per cell side by side, on a log scale.

Files are reproducible: no date or software metadata, a fixed SVG id salt and
glyphs drawn as paths, so two runs give byte-identical SVG and PNG.  matplotlib is
imported here only (the ``plot`` extra), through its object API: no pyplot state.
"""

from __future__ import annotations

import io

import numpy as np

FORMATS = ("png", "svg", "pdf")
_METADATA = {
    "svg": {"Date": None, "Creator": None},
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}


def render(measurements: list, fmt: str = "svg", *, fixed_layout: bool = False, creator: str | None = None) -> bytes:
    """The figure for some :class:`~symrnn.gradient_flow.measurement.Measurement`s as PNG, SVG or PDF bytes.

    Each panel shows ‖∂L_T/∂s_{T-d}‖ per seed (thin), their geometric mean (thick) and the fitted
    C ρ^d (dashed), against the distance d.  ``fixed_layout`` places the panels by fixed margins
    instead of matplotlib's constrained layout, about three times faster (``symrnn export`` draws one
    figure per cell).  ``creator`` is symrnn's mark: a PDF's ``/Creator``, a PNG's ``Software``, an
    SVG's first comment (by it a later run knows the file as its own).

    Raises:
        ValueError: an unknown format or no measurements.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown plot format {fmt!r}; valid: {', '.join(FORMATS)}")
    if not measurements:
        raise ValueError("nothing to plot: no measurements")
    import matplotlib
    from matplotlib.figure import Figure

    from symrnn.gradient_flow.measurement import fit

    with matplotlib.rc_context({"svg.hashsalt": "symrnn", "svg.fonttype": "path", "pdf.fonttype": 3, "font.size": 9}):
        n = len(measurements)
        width = 3.2 * n + (0.6 if fixed_layout else 0.0)  # fixed: room for the suptitle over one panel
        fig = Figure(figsize=(width, 3.0), layout=None if fixed_layout else "constrained")
        if fixed_layout:  # margins in inches: tick labels and y label on the left, title and suptitle on top
            fig.subplots_adjust(left=0.8 / width, right=1 - 0.15 / width, bottom=0.45 / 3.0, top=1 - 0.6 / 3.0)
        axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
        for ax, m in zip(axes, measurements, strict=True):
            d = m.distances
            for norms in m.norms:
                ax.semilogy(d, np.maximum(norms, np.finfo(float).tiny), color="0.7", linewidth=0.6)
            mean = m.geometric_mean
            ax.semilogy(d, mean, color="C0", linewidth=1.6, label="geometric mean")
            scale, rate = fit(mean)
            if rate > 0:
                ax.semilogy(
                    d, scale * rate ** d.astype(float), "--", color="C3", linewidth=1.0, label=f"ρ = {rate:.3f}"
                )
            ax.set_title(m.cell)
            ax.set_xlabel("distance T − k")
            ax.grid(True, which="major", linewidth=0.3)
            ax.legend(loc="lower left", frameon=False)
        axes[0].set_ylabel("‖∂L_T/∂s_k‖")
        first = measurements[0].init
        fig.suptitle(
            f"S = {first.scale:g}, B = {first.forget_bias:g}, σ_x = {first.input_scale:g}, "
            f"hidden {first.hidden_size}, {len(measurements[0].seeds)} seeds"
        )
        buffer = io.BytesIO()
        metadata = dict(_METADATA[fmt])
        if creator is not None and fmt == "pdf":
            metadata["Creator"] = creator
        elif creator is not None and fmt == "png":
            metadata["Software"] = creator  # a tEXt chunk before the image data: within the file's head
        fig.savefig(buffer, format=fmt, metadata=metadata, dpi=100)
    data = buffer.getvalue()
    if creator is not None and fmt == "svg":  # an XML comment right after the declaration
        head, _, rest = data.decode("utf-8").partition("\n")
        comment = f"<!-- {creator.replace('--', '- -')} -->\n"
        svg = f"{head}\n{comment}{rest}" if head.startswith("<?xml") else comment + head + "\n" + rest
        data = svg.encode("utf-8")
    return data


def plot_flow(cells, fmt: str = "svg", *, steps: int = 100, init=None, seeds=(0, 1, 2)) -> bytes:
    """Measure ``cells`` (names or Cells) and render them side by side; returns the PNG or SVG bytes.

    Args:
        cells: catalogue names or :class:`~symrnn.cellspec.Cell`s.
        fmt: ``"svg"`` or ``"png"``.
        steps, init, seeds: as for :func:`~symrnn.gradient_flow.measurement.measure`.
    """
    from symrnn.gradient_flow.measurement import measure

    return render([measure(c, steps=steps, init=init, seeds=seeds) for c in cells], fmt)
