"""A derivation → a standalone module whose ``loss_and_grads`` is compiled by numba.

The module is the plain NumPy module (``forward``, ``loss``, the argument checks, and the
per-step ``loss_and_grads_reference``) plus a numba kernel printed from the optimiser's plan
(:mod:`symrnn.codegen.numba_bptt`) and a ``loss_and_grads`` that checks its arguments as the
NumPy code does, evaluates the shared matrices once and calls the kernel.  It imports only
NumPy and numba (numba's ``np.dot`` needs SciPy's BLAS).

Compiled code is cached on disk (numba's ``cache=True``) next to the module file, which
:func:`compile_module` writes under the user's cache folder keyed by the source's hash, so a
second process loads the machine code instead of compiling it again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import types
from pathlib import Path

from symrnn import ir
from symrnn.codegen.numba_bptt import kernel_source
from symrnn.codegen.numba_loops import NotCompilable
from symrnn.codegen.numpy_module import _prologue, py_name
from symrnn.codegen.numpy_module import module_source as numpy_module_source
from symrnn.codegen.numpy_printer import dim_code
from symrnn.codegen.plan import NotOptimizable, make_plan

EXTRA = 'the numba backend needs numba (and SciPy): pip install "symrnn[numba]"'

_RUNTIME = """

@numba.njit(cache=True, error_model="numpy")
def _softmax_rows(z, out):
    for r in range(z.shape[0]):
        m = z[r, 0]
        for j in range(1, z.shape[1]):
            m = max(m, z[r, j])
        s = 0.0
        for j in range(z.shape[1]):
            e = np.exp(z[r, j] - m)
            out[r, j] = e
            s += e
        for j in range(z.shape[1]):
            out[r, j] = out[r, j] / s


@numba.njit(cache=True, error_model="numpy")
def _softmax_ce_rows(z, y, out):
    # softmax(z) into out, and Σ y ⊙ (log Σ e^{z - m} - (z - m)): both terms ≥ 0 for targets ≥ 0,
    # so confident predictions lose no digits; the sums are float64
    loss = 0.0
    for r in range(z.shape[0]):
        m = z[r, 0]
        for j in range(1, z.shape[1]):
            m = max(m, z[r, j])
        s = 0.0
        for j in range(z.shape[1]):
            e = np.exp(z[r, j] - m)
            out[r, j] = e
            s += e
        log_s = np.log(s)
        for j in range(z.shape[1]):
            out[r, j] = out[r, j] / s
            loss += y[r, j] * (log_s - (z[r, j] - m))
    return loss


@numba.njit(cache=True, error_model="numpy")
def _sigmoid_bce_rows(z, y):
    loss = 0.0
    for r in range(z.shape[0]):
        for j in range(z.shape[1]):
            a = z[r, j]
            loss += max(a, 0.0) - a * y[r, j] + np.log1p(np.exp(-abs(a)))
    return loss


@numba.njit(cache=True, error_model="numpy")
def _squared_error_rows(yhat, y):
    loss = 0.0
    for r in range(yhat.shape[0]):
        for j in range(yhat.shape[1]):
            e = yhat[r, j] - y[r, j]
            loss += e * e
    return 0.5 * loss

"""


def require_numba() -> types.ModuleType:
    """numba, or an ImportError naming the extra that installs it."""
    try:
        import numba  # noqa: F401
        import scipy.linalg.cython_blas  # noqa: F401  numba's np.dot calls BLAS through SciPy
    except ImportError as e:
        raise ImportError(EXTRA) from e
    import numba

    return numba


def plan_for(d):
    """The optimiser's plan, or :class:`NotCompilable` saying why the compiled backend cannot serve."""
    try:
        return make_plan(d)
    except NotOptimizable as e:
        raise NotCompilable(f"the numba backend compiles the optimiser's plan, and {d.cell.name} has none: {e}") from e


def module_source(d) -> str:
    """The module's source text: the plain NumPy module and the compiled ``loss_and_grads``."""
    plan = plan_for(d)
    body, kernel = kernel_source(d, plan)
    states = list(d.cell.states)
    source = numpy_module_source(d, optimize=False)
    source = source.replace("def loss_and_grads(", "def loss_and_grads_reference(", 1)
    source = source.replace("import numpy as np", "import time\nimport warnings\n\nimport numba\nimport numpy as np", 1)
    source = source.replace("imports only NumPy.", "imports only NumPy and numba.", 1)
    out = [source, _RUNTIME]

    # the kernel: every size, the arrays, the shared matrices, the constants
    shared = [name for name, _ in kernel.shared.values()]
    dims = [str(s) for s in ir.DIMS]
    inits = [f"init_{py_name(s)}" for s in states]
    args = ["xs", "ys", *inits, *shared, "constants", *dims]
    out.append('@numba.njit(cache=True, nogil=True, error_model="numpy")')
    out.append(f"def _loss_and_grads_kernel({', '.join(args)}):")
    out.append("    T, batch_size = xs.shape[0], xs.shape[1]")
    out.append("    dtype = xs.dtype")
    out.append("    ys2 = ys.reshape(T * batch_size, ys.shape[2])")
    for code, name in kernel.constants.items():
        out.append(f"    {name} = constants[{list(kernel.constants).index(code)}]  # {code}")
    for name, shape in kernel.buffers.items():
        if shape and shape[0] != "width":
            out.append(f"    {name} = np.empty(({', '.join(shape)}), dtype)")
    out += ["    " + line if line else "" for line in body]
    out.append("")
    out.append("")

    # the wrapper: the NumPy code's checks, then one call
    out += _prologue(
        d,
        "loss_and_grads(params, xs, ys, initial_state=None)",
        'J = Σ_t Σ_batch L_t and ∂J/∂(every parameter), plus ∂J/∂s_0 as grads["<state>_0"] (compiled).',
    )
    out.append("    xs = np.ascontiguousarray(xs, dtype)")
    out.append("    ys = np.ascontiguousarray(ys, dtype)")
    sizes = {"input_size": "xs.shape[2]", "output_size": "ys.shape[2]"}
    for dim in dims:  # every size the kernel may name (0 where the cell has none)
        out.append(f"    {dim}_ = dims.get({dim!r}, {sizes.get(dim, '0')})")
    for s, node in d.cell.states.items():
        code = f"_initial(initial_state, {s!r}, batch_size, {dim_code(node.shape[0])}, dtype)"
        out.append(f"    init_{py_name(s)} = np.ascontiguousarray({code})")
    for name, code in kernel.shared.values():
        out.append(f"    {name} = np.ascontiguousarray({code}, dtype)")
    values = ", ".join(kernel.constants) + ("," if len(kernel.constants) == 1 else "")
    out.append(f"    constants = np.array(({values}), dtype)")
    call_args = ["xs", "ys", *inits, *shared, "constants", *[f"{dim}_" for dim in dims]]
    call = f"_loss_and_grads_kernel({', '.join(call_args)})"
    out.append("    if np.dtype(dtype).name in COMPILE_SECONDS:")
    out.append(f"        loss, grads = {call}")
    out.append("    else:  # compiled (or loaded from the cache) now; numba's notes on strided views are ours")
    out.append("        start = time.perf_counter()")
    out.append("        with warnings.catch_warnings():")
    out.append('            warnings.simplefilter("ignore", numba.NumbaPerformanceWarning)')
    out.append(f"            loss, grads = {call}")
    out.append("        COMPILE_SECONDS[np.dtype(dtype).name] = time.perf_counter() - start")
    names = [repr(name) for name in d.params] + [repr(s + "_0") for s in states]
    out.append(f"    return dtype.type(loss), dict(zip(({', '.join(names)},), grads))")
    out.append("")
    out.append("")
    out.append("# seconds the first call of each dtype took: compiling, or loading the cached machine code")
    out.append("COMPILE_SECONDS = {}")
    out.append("")
    return "\n".join(out)


def cache_dir() -> Path:
    """Where compiled modules live: ``$SYMRNN_CACHE_DIR``, else the user's cache folder."""
    root = os.environ.get("SYMRNN_CACHE_DIR")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "symrnn" / "numba"


def compile_module(d) -> types.ModuleType:
    """Write the module under :func:`cache_dir` (once per source) and import it.

    Raises:
        ImportError: numba is not installed (the message names the extra).
        NotCompilable: the derivation is outside what the compiled backend expresses.
    """
    require_numba()
    source = module_source(d)
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"symrnn_{py_name(d.cell.name)}_{d.loss.name}_{digest}.py"
    if not path.exists() or path.read_text(encoding="utf-8") != source:
        # atomically: another process may be importing the same file
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(source)
        os.replace(tmp, path)
    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # numba's cache locates functions through their module
    spec.loader.exec_module(module)
    module.__source__ = source
    return module
