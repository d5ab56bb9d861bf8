"""A derivation → a standalone module whose ``loss_and_grads`` is compiled by numba.

The module is the plain NumPy module (``forward``, ``loss``, the argument checks, and the
per-step ``loss_and_grads_reference``) plus a numba kernel printed from the optimiser's plan
(:mod:`symrnn.codegen.numba_bptt`) and a ``loss_and_grads`` that checks its arguments as the
NumPy code does, evaluates the shared matrices once and calls the kernel.  It imports only
NumPy and numba (with numba's llvmlite; numba's ``np.dot``, the fallback for products, needs
SciPy's BLAS).

Two runtime pieces make the loops fast: ``_exp``, an exp the loop vectorizer can widen (range
reduction, a Taylor polynomial and the exponent bits: numba's ``np.exp`` is one libm call per
entry, so the fused loops stayed scalar), within an ulp of np.exp with its limits (0, inf, NaN);
and ``_mm``, products through NumPy's own BLAS (its OpenBLAS, found by its exported ``cblas_?gemm``
and checked on one product at import), which is faster than SciPy's at float32, takes views with
leading dimensions and accumulates (β = 1); numba's ``np.dot`` serves where it is not found.

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

_RUNTIME = r"""

# ---- exp as a polynomial the loop vectorizer can widen (numba's np.exp is one libm call per entry)


@intrinsic
def _pow2(typingctx, k):
    # 2**k for an integral float k in the normal exponent range, from its exponent bits.
    if k not in (numba.types.float32, numba.types.float64):
        return None

    def codegen(context, builder, signature, args):
        bits, mantissa, bias = (32, 23, 127) if signature.args[0] == numba.types.float32 else (64, 52, 1023)
        integer = llvm_ir.IntType(bits)
        n = builder.add(builder.fptosi(args[0], integer), llvm_ir.Constant(integer, bias))
        n = builder.shl(n, llvm_ir.Constant(integer, mantissa))
        return builder.bitcast(n, context.get_value_type(signature.return_type))

    return k(k), codegen


def _exp_of(t, degree, ln2_hi, ln2_lo, lo, hi):
    # e^x = 2^k e^r, k = round(x / ln 2), r = x - k ln 2 (ln 2 in two parts: k·ln2_hi is exact),
    # e^r by its Taylor polynomial on |r| ≤ ln 2 / 2 (error below half an ulp of the dtype),
    # 2^k as 2^k1 · 2^k2 so that overflow gives inf and underflow 0 (or a subnormal), as exp does
    c = [t(1.0 / math.factorial(n)) for n in range(14)] if degree == 13 else [t(1.0 / math.factorial(n)) for n in range(8)]
    half, log2e, ln2_hi, ln2_lo, lo, hi = t(0.5), t(1.4426950408889634), t(ln2_hi), t(ln2_lo), t(lo), t(hi)
    c0, c1, c2, c3, c4, c5, c6, c7 = c[:8]
    c8, c9, c10, c11, c12, c13 = c[8:] if degree == 13 else [t(0)] * 6

    def exp7(x):
        xc = x if x < hi else hi
        xc = xc if xc > lo else lo
        k = np.floor(xc * log2e + half)
        r = (xc - k * ln2_hi) - k * ln2_lo
        p = c0 + r * (c1 + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * (c7)))))))
        k1 = np.floor(k * half)
        e = p * _pow2(k1) * _pow2(k - k1)
        return e if x == x else x  # NaN in, NaN out

    def exp13(x):
        xc = x if x < hi else hi
        xc = xc if xc > lo else lo
        k = np.floor(xc * log2e + half)
        r = (xc - k * ln2_hi) - k * ln2_lo
        p = c0 + r * (c1 + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * (c7 + r * (c8 + r * (c9 + r * (c10 + r * (c11 + r * (c12 + r * (c13)))))))))))))
        k1 = np.floor(k * half)
        e = p * _pow2(k1) * _pow2(k - k1)
        return e if x == x else x

    return exp13 if degree == 13 else exp7


_EXP32 = _exp_of(np.float32, 7, 0.693359375, -2.12194440e-4, -110.0, 100.0)
_EXP64 = _exp_of(np.float64, 13, 6.93147180369123816490e-01, 1.90821492927058770002e-10, -760.0, 720.0)


def _exp(x):
    return np.exp(x)


@overload(_exp, inline="always")
def _exp_overload(x):
    if x == numba.types.float32:
        return _EXP32
    if x == numba.types.float64:
        return _EXP64
    return None


# ---- products in NumPy's own BLAS (SciPy's, through numba's np.dot, where it cannot be found)


def _numpy_blas():
    # NumPy's wheels carry OpenBLAS with 64-bit integers (scipy_cblas_sgemm64_); numba's np.dot
    # calls SciPy's OpenBLAS, a different build (slower here at float32). [s, d, 64-bit]: addresses
    # of cblas_sgemm and cblas_dgemm, checked on one product each; zeros where not found.
    import ctypes
    import glob

    found = np.zeros(3, np.int64)
    root = os.path.dirname(os.path.dirname(np.__file__))
    patterns = ("numpy.libs/*openblas*", "numpy/.dylibs/*openblas*", "numpy.libs/*openblas*.dll")
    for path in sorted({p for pattern in patterns for p in glob.glob(os.path.join(root, pattern))}):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix, wide in (("scipy_cblas_", "64_", 1), ("cblas_", "64_", 1), ("scipy_cblas_", "", 0)):
            functions = [getattr(library, f"{prefix}{kind}gemm{suffix}", None) for kind in "sd"]
            if all(f is not None for f in functions):
                found[:] = [ctypes.cast(f, ctypes.c_void_p).value for f in functions] + [wide]
                if _blas_works(found):
                    return found
    return np.zeros(3, np.int64)


def _blas_works(blas):
    import ctypes

    wide = ctypes.c_int64 if blas[2] else ctypes.c_int32
    for address, dtype, real in ((blas[0], np.float32, ctypes.c_float), (blas[1], np.float64, ctypes.c_double)):
        i32, p = ctypes.c_int32, ctypes.c_void_p
        gemm = ctypes.CFUNCTYPE(None, i32, i32, i32, wide, wide, wide, real, p, wide, p, wide, real, p, wide)(int(address))
        a = np.arange(6, dtype=dtype).reshape(2, 3)
        b = np.arange(12, dtype=dtype).reshape(3, 4) - 5
        c = np.ones((2, 4), dtype)
        gemm(101, 111, 111, 2, 4, 3, 1.0, a.ctypes.data, 3, b.ctypes.data, 4, 1.0, c.ctypes.data, 4)
        if not np.array_equal(c, a @ b + 1):
            return False
    return True


@intrinsic
def _cblas_gemm(typingctx, address, wide, transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc):
    # cblas_?gemm(row major, transa, transb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc) at an address.
    if beta not in (numba.types.float32, numba.types.float64):
        return None

    def codegen(context, builder, signature, args):
        address, wide, transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc = args
        real = context.get_value_type(signature.args[11])
        i32, pointer = llvm_ir.IntType(32), context.get_value_type(signature.args[11]).as_pointer()

        def call(width):
            integer = llvm_ir.IntType(width)
            kinds = [i32, i32, i32, integer, integer, integer, real, pointer, integer, pointer, integer, real, pointer]
            function = builder.inttoptr(address, llvm_ir.FunctionType(llvm_ir.VoidType(), [*kinds, integer]).as_pointer())

            def size(v):
                return builder.trunc(v, integer) if width < 64 else v

            one = llvm_ir.Constant(real, 1.0)
            operands = [llvm_ir.Constant(i32, 101), builder.trunc(transa, i32), builder.trunc(transb, i32)]
            operands += [size(m), size(n), size(k), one, builder.inttoptr(a, pointer), size(lda)]
            operands += [builder.inttoptr(b, pointer), size(ldb), beta, builder.inttoptr(c, pointer), size(ldc)]
            builder.call(function, operands)

        with builder.if_else(builder.icmp_signed("!=", wide, llvm_ir.Constant(wide.type, 0))) as (then, otherwise):
            with then:
                call(64)
            with otherwise:
                call(32)
        return context.get_dummy_value()

    signature = numba.types.void(address, wide, transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc)
    return signature, codegen


@numba.njit(cache=True, error_model="numpy")
def _lead(x):
    # (cblas transpose flag, leading dimension) of a 2-D view with unit stride along a row or a
    # column; -1 where neither
    size = x.itemsize
    rows, cols = x.shape
    if x.strides[1] == size or cols == 1:
        return 111, max(x.strides[0] // size, cols, 1) if rows > 1 else max(cols, 1)
    if x.strides[0] == size or rows == 1:
        return 112, max(x.strides[1] // size, rows, 1) if cols > 1 else max(rows, 1)
    return -1, 0


@numba.njit(cache=True, error_model="numpy")
def _mm(a, b, out, beta, blas):
    # out = a @ b + beta · out (beta 0: out's old entries are not read) for 2-D views.
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        if beta == 0:
            out[:] = 0
        else:
            out *= beta
        return
    address = blas[0] if a.itemsize == 4 else blas[1]
    ta, lda = _lead(a)
    tb, ldb = _lead(b)
    tc, ldc = _lead(out)
    if address != 0 and ta > 0 and tb > 0 and tc == 111:
        _cblas_gemm(address, blas[2], ta, tb, m, n, k, a.ctypes.data, lda, b.ctypes.data, ldb, beta, out.ctypes.data, ldc)
    elif beta == 0:
        out[:] = np.dot(np.ascontiguousarray(a), np.ascontiguousarray(b))
    else:
        out[:] = np.dot(np.ascontiguousarray(a), np.ascontiguousarray(b)) + beta * out


@numba.njit(cache=True, error_model="numpy")
def _softmax_rows(z, out):
    for r in range(z.shape[0]):
        m = z[r, 0]
        for j in range(1, z.shape[1]):
            m = max(m, z[r, j])
        s = 0.0
        for j in range(z.shape[1]):
            e = _exp(z[r, j] - m)
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
            e = _exp(z[r, j] - m)
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
            loss += max(a, 0.0) - a * y[r, j] + np.log1p(_exp(-abs(a)))
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
    imports = "import math\nimport os\nimport time\nimport warnings\n\nimport numba\nimport numpy as np\n"
    imports += "from llvmlite import ir as llvm_ir  # numba's own code generator\n"
    imports += "from numba.extending import intrinsic, overload"
    source = source.replace("import numpy as np", imports, 1)
    source = source.replace("imports only NumPy.", "imports only NumPy and numba.", 1)
    out = [source, _RUNTIME, "", "_BLAS = _numpy_blas()", "", ""]

    # the kernel: every size, the arrays, the shared matrices, the constants
    shared = [name for name, _ in kernel.shared.values()]
    dims = [str(s) for s in ir.DIMS]
    inits = [f"init_{py_name(s)}" for s in states]
    args = ["xs", "ys", *inits, *shared, "constants", "blas", *dims]
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
    call_args = ["xs", "ys", *inits, *shared, "constants", "_BLAS", *[f"{dim}_" for dim in dims]]
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
