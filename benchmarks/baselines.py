"""Hand-written, vectorised NumPy forward + BPTT baselines for RNN, LSTM and GRU.

These are the reference implementations the generated code is benchmarked
against, so they are written the way a careful NumPy programmer would write
them for speed (plain NumPy only):

* the per-gate parameter matrices are concatenated once per call (that cost is
  part of the timing, exactly as a user holding the separate-matrix layout
  would pay it);
* the input projections of all time steps are computed before the loop (one
  batched GEMM), the readout (logits, softmax, its backward) is vectorised over
  all steps after it;
* the gates of one step are one matrix product with the stacked recurrent
  matrix;
* every element-wise derivative factor that does not depend on the incoming
  gradient is computed for all steps at once, outside the recurrence, so the
  backward loop is a handful of in-place ufunc calls plus one or two GEMMs per
  step (the pre-activation gradients are formed in place in the factor buffer);
* the weight gradients (recurrent, input and bias together) are one GEMM over
  all (time x batch) columns after the loop (the GRU needs three, because its
  candidate's recurrent product is with r ⊙ h rather than h);
* buffers are preallocated, ``out=`` is used throughout, and by default the
  large buffers are kept in a per-thread workspace and reused by the next call
  of the same shape (as a training loop would): fresh multi-megabyte arrays
  cost a page fault per 4 KiB on first touch, which at the benchmark size is
  several milliseconds per call.  Pass ``reuse_buffers=False`` for the
  allocate-every-call variant;
* the dtype is preserved: float32 stays float32 throughout (Python scalars are
  "weak" under NEP 50, so they never upcast).

Memory layout.  Inside the recurrence everything is feature-major, i.e. column
vectors as in the maths: the state of step ``t`` is an (H, B) block, the gate
pre-activations an (nH, B) block computed as ``W_h (nH, H) @ h (H, B)``.  Each
gate is then a contiguous row block, so every element-wise operation in the
loops runs on contiguous memory, which is NumPy's fast path (a column slice of
a row-major (B, 4H) array costs 2-3x more per ufunc call, and the all-steps
factor passes are ~4x faster on contiguous blocks).  The bulk GEMMs over all
steps (readout, weight gradients) use (time·batch)-major operands obtained by
one cheap transposed copy each.

Activations.  NumPy's ``tanh`` is markedly slower than ``exp`` (about 1.5x in
float32, 2x in float64 on the development machine), so all activations go
through ``exp``:  ``σ(a) = 1 / (1 + e^{-a})`` and ``tanh(a) = 2 / (1 + e^{-2a}) - 1``.
The factors -1 and -2 are folded into the rows of the stacked forward weights
and biases (scaling by ±2^k is exact in binary floating point), so one ``exp``
and one ``+= 1`` cover all gates of a step.  ``e^{-a}`` may overflow to ``inf``
for very negative ``a``; the results (0, resp. -1) are then exact and the
overflow warning is suppressed.  ``tanh`` computed this way has an absolute
error of a few ulp(1), which is what matters downstream.

Conventions (maths per example with column vectors; the API is batched with
row vectors):

* sizes: T steps, B batch rows, X inputs, H hidden units, Y outputs (classes);
* ``xs``: (T, B, X); ``ys``: (T, B, Y) targets whose rows sum to one (one-hot
  or probability vectors, which is what makes ``d loss / d logits = ŷ - y``);
* ``initial_state``: ``None`` (zeros) or ``{"h": (B, H)}`` (+ ``"c"`` for the
  LSTM);
* parameters: matrices stored (rows, cols) as written in the maths, biases 1-D,
  all of the same dtype as ``xs``;
* readout ``ȳ_t = W_y h_t + b_y``; loss ``J = Σ_t Σ_batch -y_tᵀ log softmax(ȳ_t)``
  (a sum, not a mean), computed with a log-sum-exp;
* return value ``(loss, grads)``: ``loss`` a NumPy scalar of the input dtype,
  ``grads`` a dict with the parameter keys plus ``"h_0"`` (and ``"c_0"`` for the
  LSTM), the gradients with respect to the initial state, (B, H).  Returned
  arrays never alias the workspace.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = [
    "rnn_loss_and_grads",
    "lstm_loss_and_grads",
    "gru_loss_and_grads",
    "clear_workspace",
    "BASELINES",
]


# ---------------------------------------------------------------------------
# workspace
# ---------------------------------------------------------------------------

_WS = threading.local()
_WS_MAX_ENTRIES = 8


def clear_workspace():
    """Drop this thread's cached buffers."""
    _WS.cache = {}


def _workspace(reuse, key, dtype, shapes):
    """Uninitialised arrays ``{name: np.empty(shape, dtype)}``, cached per thread if ``reuse``."""
    if not reuse:
        return {k: np.empty(s, dtype) for k, s in shapes.items()}
    cache = getattr(_WS, "cache", None)
    if cache is None:
        cache = _WS.cache = {}
    full_key = (key, dtype.str, tuple(shapes.items()))
    ws = cache.get(full_key)
    if ws is None:
        while len(cache) >= _WS_MAX_ENTRIES:
            cache.pop(next(iter(cache)))
        ws = cache[full_key] = {k: np.empty(s, dtype) for k, s in shapes.items()}
    return ws


# ---------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------


def _set_initial(dst, initial_state, key):
    """``dst`` (H, B) <- initial_state[key].T, or zeros."""
    v = None if initial_state is None else initial_state.get(key)
    if v is None:
        dst.fill(0)
    else:
        np.copyto(dst, np.asarray(v).T)


def _input_projection(xs, Wx_f, b_f, G):
    """``G[t] = Wx_f @ x_tᵀ + b_f`` for all t: (T, nH, B), one batched GEMM + bias."""
    np.matmul(Wx_f, xs.transpose(0, 2, 1), out=G)
    G += b_f[:, None]


def _row_states(hs, xs, XH):
    """Fill ``XH`` (T+1, B, H+X+1) with rows ``[h_{t-1} | x_t | 1]`` ((time·batch)-major).

    ``hs`` (T+1, H, B) holds h_0..h_T feature-major (``hs[t]`` is the state
    entering step t).  ``XH[:T]`` reshaped to (T·B, H+X+1) is the right operand
    of the fused weight-gradient GEMM (recurrent weights | input weights | bias);
    ``XH[1:, :, :H]`` are the states after steps 1..T, the readout's input.
    The x-block of the last row block is never read by a GEMM; it is zeroed.
    """
    T, B, X = xs.shape
    H = hs.shape[1]
    np.copyto(XH[:, :, :H], hs.transpose(0, 2, 1))
    XH[:T, :, H : H + X] = xs
    XH[T, :, H : H + X] = 0
    XH[:, :, H + X] = 1


def _readout(XH, ys, W_y, b_y, Z, dH):
    """Readout, summed softmax cross-entropy and its backward pass, all steps at once.

    ``XH`` from :func:`_row_states`.  ``Z`` (T·B, Y) is a work buffer and ``dH``
    (T, H, B) receives ``W_yᵀ (ŷ_t - y_t)`` for every step (feature-major).
    Returns ``(loss, dW_y, db_y)``.
    """
    T, B, Y = ys.shape
    N = T * B
    H = W_y.shape[1]
    H2 = XH[1:, :, :H].reshape(N, H)  # a strided view (row stride H+X+1), BLAS-able
    ys2 = ys.reshape(N, Y)
    np.matmul(H2, W_y.T, out=Z)
    Z += b_y
    Z -= Z.max(axis=1, keepdims=True)  # shifted logits z, row max 0
    # J = Σ_n Σ_k -y_nk (z_nk - log s_n) = Σ_n (Σ_k y_nk) log s_n - <y, z>
    yz = np.vdot(ys2, Z)
    np.exp(Z, out=Z)
    s = Z.sum(axis=1, keepdims=True)
    loss = np.vdot(ys2.sum(axis=1), np.log(s[:, 0])) - yz
    Z /= s  # ŷ
    Z -= ys2  # dJ/dlogits = ŷ - y  (rows of y sum to one)
    np.matmul(W_y.T, Z.reshape(T, B, Y).transpose(0, 2, 1), out=dH)
    return loss, Z.T @ H2, Z.sum(axis=0)


def _stack_rows(arrays, scales):
    """``vstack(arrays)`` (or concatenate, for biases) with row block ``k`` times ``scales[k]``."""
    out = np.concatenate(arrays)
    n = arrays[0].shape[0]
    for k, s in enumerate(scales):
        if s != 1:
            out[k * n : (k + 1) * n] *= s
    return out


def _finish_tanh(block):
    """In place: ``block`` holds 1 + e^{-2a}; turn it into tanh(a) = 2 / block - 1."""
    np.divide(2.0, block, out=block)
    block -= 1.0


def _time_major(A, out):
    """(T, nH, B) -> (nH, T·B) copy: the left operand of the weight-gradient GEMMs."""
    T, n, B = A.shape
    np.copyto(out.reshape(n, T, B), A.transpose(1, 0, 2))
    return out


# ---------------------------------------------------------------------------
# vanilla (Elman) RNN
# ---------------------------------------------------------------------------


def rnn_loss_and_grads(params, xs, ys, initial_state=None, *, reuse_buffers=True):
    """Loss and gradients of the tanh RNN ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)``."""
    xs = np.asarray(xs)
    ys = np.asarray(ys)
    dtype = xs.dtype
    T, B, X = xs.shape
    W_hh = params["W_hh"]
    W_y = params["W_y"]
    H = W_hh.shape[0]
    Y = W_y.shape[0]
    N = T * B
    ws = _workspace(
        reuse_buffers,
        "rnn",
        dtype,
        {
            "hs": (T + 1, H, B),  # hs[0] = h_0 (feature-major)
            "XH": (T + 1, B, H + X + 1),  # rows [h_{t-1} | x_t | 1], see _row_states
            "D": (T, H, B),  # tanh' factors, then pre-activation grads
            "DA": (H, N),
            "Z": (N, Y),
            "dH": (T, H, B),
            "tmp": (H, B),
            "dh": (H, B),
        },
    )
    hs, XH, D, tmp, dh = ws["hs"], ws["XH"], ws["D"], ws["tmp"], ws["dh"]

    # forward weights pre-scaled by -2 for tanh(a) = 2 / (1 + e^{-2a}) - 1
    W_hh_f = W_hh * -2.0

    with np.errstate(over="ignore"):
        _set_initial(hs[0], initial_state, "h")
        _input_projection(xs, params["W_xh"] * -2.0, params["b_h"] * -2.0, hs[1:])
        for t in range(T):
            ht = hs[t + 1]
            np.matmul(W_hh_f, hs[t], out=tmp)
            ht += tmp
            np.exp(ht, out=ht)
            ht += 1.0
            _finish_tanh(ht)

    _row_states(hs, xs, XH)
    loss, dW_y, db_y = _readout(XH, ys, W_y, params["b_y"], ws["Z"], ws["dH"])

    # tanh' = 1 - h², all steps at once; D becomes the pre-activation gradient in place
    np.multiply(hs[1:], hs[1:], out=D)
    np.subtract(1.0, D, out=D)
    dH = ws["dH"]
    W_hhT = np.ascontiguousarray(W_hh.T)
    for t in range(T - 1, -1, -1):
        dht = dH[t]
        if t < T - 1:
            dht += dh
        dat = D[t]
        dat *= dht
        np.matmul(W_hhT, dat, out=dh)

    DA = _time_major(D, ws["DA"])
    dW = DA @ XH[:T].reshape(N, H + X + 1)  # [dW_hh | dW_xh | db_h], one GEMM
    grads = {
        "W_hh": dW[:, :H].copy(),
        "W_xh": dW[:, H : H + X].copy(),
        "b_h": dW[:, H + X].copy(),
        "W_y": dW_y,
        "b_y": db_y,
        "h_0": dh.T.copy(),
    }
    return loss, grads


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------

# Internal gate order of the stacked matrices (row blocks): g, f, i, o.
#   * the sigmoid gates f, i, o are one contiguous block;
#   * the gates whose gradient is dc ⊙ (factor) -- g, f, i -- are one contiguous
#     block, so one broadcast multiply per backward step forms all three;
#   * o (gradient dh ⊙ factor) is the last block.
_LSTM_ORDER = ("g", "f", "i", "o")
_LSTM_SCALES = (-2.0, -1.0, -1.0, -1.0)  # tanh row block, then sigmoid blocks


def lstm_loss_and_grads(params, xs, ys, initial_state=None, *, reuse_buffers=True):
    """Loss and gradients of the forget-gate LSTM (gates f, i, o sigmoid; g tanh)."""
    xs = np.asarray(xs)
    ys = np.asarray(ys)
    dtype = xs.dtype
    T, B, X = xs.shape
    H = params["W_hf"].shape[0]
    W_y = params["W_y"]
    Y = W_y.shape[0]
    N = T * B
    H2, H3, H4 = 2 * H, 3 * H, 4 * H
    ws = _workspace(
        reuse_buffers,
        "lstm",
        dtype,
        {
            "G": (T, H4, B),  # activated gates [g; f; i; o]
            "P": (T, H4, B),  # derivative factors, then pre-activation grads
            "C": (T + 1, H, B),  # C[0] = c_0, C[t+1] = c_t
            "hs": (T + 1, H, B),  # hs[0] = h_0
            "XH": (T + 1, B, H + X + 1),  # rows [h_{t-1} | x_t | 1]
            "TC": (T, H, B),  # tanh(c_t)
            "E": (T, H, B),  # o ⊙ (1 - tanh² c_t)
            "DA": (H4, N),
            "Z": (N, Y),
            "dH": (T, H, B),
            "tmp4": (H4, B),
            "tmp": (H, B),
            "dh": (H, B),
            "dc": (H, B),
        },
    )
    G, P, C, hs, TC, E = ws["G"], ws["P"], ws["C"], ws["hs"], ws["TC"], ws["E"]
    tmp4, tmp, dh, dc = ws["tmp4"], ws["tmp"], ws["dh"], ws["dc"]

    # stacked parameters (paid once per call) ---------------------------
    Wh_f = _stack_rows([params["W_h" + k] for k in _LSTM_ORDER], _LSTM_SCALES)  # (4H, H)
    WhT = np.concatenate([params["W_h" + k] for k in _LSTM_ORDER]).T.copy()  # (H, 4H), backward
    Wx_f = _stack_rows([params["W_x" + k] for k in _LSTM_ORDER], _LSTM_SCALES)  # (4H, X)
    b_f = _stack_rows([params["b_" + k] for k in _LSTM_ORDER], _LSTM_SCALES)

    # forward ------------------------------------------------------------
    with np.errstate(over="ignore"):
        _set_initial(C[0], initial_state, "c")
        _set_initial(hs[0], initial_state, "h")
        _input_projection(xs, Wx_f, b_f, G)
        for t in range(T):
            gt = G[t]
            np.matmul(Wh_f, hs[t], out=tmp4)
            gt += tmp4  # [-2 a_g; -a_f; -a_i; -a_o]
            np.exp(gt, out=gt)
            gt += 1.0
            g = gt[:H]
            _finish_tanh(g)
            sig = gt[H:]
            np.reciprocal(sig, out=sig)
            ct = C[t + 1]
            np.multiply(gt[H:H2], C[t], out=ct)  # f ⊙ c_{t-1}
            np.multiply(gt[H2:H3], g, out=tmp)  # i ⊙ g
            ct += tmp
            tct = TC[t]
            np.multiply(ct, -2.0, out=tct)  # tanh(c_t)
            np.exp(tct, out=tct)
            tct += 1.0
            _finish_tanh(tct)
            np.multiply(gt[H3:], tct, out=hs[t + 1])

    XH = ws["XH"]
    _row_states(hs, xs, XH)
    loss, dW_y, db_y = _readout(XH, ys, W_y, params["b_y"], ws["Z"], ws["dH"])

    # derivative factors for all steps at once (outside the recurrence) --
    #   da_g = dc ⊙ [i ⊙ (1 - g²)]         P[:, 0:H]
    #   da_f = dc ⊙ [c_{t-1} ⊙ f(1-f)]      P[:, H:2H]
    #   da_i = dc ⊙ [g ⊙ i(1-i)]            P[:, 2H:3H]
    #   da_o = dh ⊙ [tanh c ⊙ o(1-o)]       P[:, 3H:]
    #   dc  += dh ⊙ [o ⊙ (1 - tanh² c)]     E
    g_, f_, i_, o_ = G[:, :H], G[:, H:H2], G[:, H2:H3], G[:, H3:]
    pg, pf, pi, po = P[:, :H], P[:, H:H2], P[:, H2:H3], P[:, H3:]
    np.subtract(1.0, G[:, H:], out=P[:, H:])
    P[:, H:] *= G[:, H:]  # s(1-s) for f, i, o
    np.multiply(g_, g_, out=pg)
    np.subtract(1.0, pg, out=pg)
    pg *= i_
    pf *= C[:-1]
    pi *= g_
    po *= TC
    np.multiply(TC, TC, out=E)
    np.subtract(1.0, E, out=E)
    E *= o_

    # backward (P turns into the pre-activation gradients, in place) -----
    P4 = P.reshape(T, 4, H, B)
    dH = ws["dH"]
    dc.fill(0)
    for t in range(T - 1, -1, -1):
        dht = dH[t]
        if t < T - 1:
            dht += dh  # + recurrent path
        np.multiply(dht, E[t], out=tmp)
        dc += tmp
        gfi = P4[t, :3]
        np.multiply(dc, gfi, out=gfi)  # da_g, da_f, da_i
        np.multiply(dht, P4[t, 3], out=P4[t, 3])  # da_o
        dc *= f_[t]  # dc_{t-1}
        np.matmul(WhT, P[t], out=dh)  # dh_{t-1}

    DA = _time_major(P, ws["DA"])  # (4H, T·B)
    dW = DA @ XH[:T].reshape(N, H + X + 1)  # (4H, H+X+1) = [dW_h | dW_x | db], one GEMM
    grads = {}
    for n, k in enumerate(_LSTM_ORDER):
        rows = slice(n * H, (n + 1) * H)
        grads["W_h" + k] = dW[rows, :H].copy()
        grads["W_x" + k] = dW[rows, H : H + X].copy()
        grads["b_" + k] = dW[rows, H + X].copy()
    grads["W_y"] = dW_y
    grads["b_y"] = db_y
    grads["h_0"] = dh.T.copy()
    grads["c_0"] = dc.T.copy()
    return loss, grads


# ---------------------------------------------------------------------------
# GRU (Chung et al. 2014: reset before the recurrent product)
# ---------------------------------------------------------------------------

# Internal gate order (row blocks): h (candidate), z, r.
#   * forward: z and r share one GEMM with [W_hz; W_hr]; the candidate needs
#     r ⊙ h_{t-1} first, so it is a second GEMM;
#   * backward: [da_h; da_z] = dh ⊙ [Q_h; Q_z] is one broadcast multiply and
#     [da_z; da_r] is contiguous for the GEMM with [W_hz; W_hr]ᵀ.
_GRU_ORDER = ("h", "z", "r")
_GRU_SCALES = (-2.0, -1.0, -1.0)


def gru_loss_and_grads(params, xs, ys, initial_state=None, *, reuse_buffers=True):
    """Loss and gradients of the GRU ``h_t = (1 - z) ⊙ h_{t-1} + z ⊙ tanh(W_xh x + W_hh (r ⊙ h_{t-1}) + b_h)``."""
    xs = np.asarray(xs)
    ys = np.asarray(ys)
    dtype = xs.dtype
    T, B, X = xs.shape
    H = params["W_hh"].shape[0]
    W_y = params["W_y"]
    Y = W_y.shape[0]
    N = T * B
    H2, H3 = 2 * H, 3 * H
    ws = _workspace(
        reuse_buffers,
        "gru",
        dtype,
        {
            "G": (T, H3, B),  # activated [h̃; z; r]
            "Q": (T, H3, B),  # derivative factors, then pre-activation grads
            "hs": (T + 1, H, B),
            "XH": (T + 1, B, H + X + 1),  # rows [h_{t-1} | x_t | 1]
            "RH": (T, H, B),  # r_t ⊙ h_{t-1}, needed for dW_hh
            "RHR": (T, B, H),
            "OMZ": (T, H, B),  # 1 - z_t
            "DA": (H3, N),
            "Z": (N, Y),
            "dH": (T, H, B),
            "tmp2": (H2, B),
            "tmp": (H, B),
            "dh": (H, B),
        },
    )
    G, Q, hs, RH, OMZ = ws["G"], ws["Q"], ws["hs"], ws["RH"], ws["OMZ"]
    tmp2, tmp, dh = ws["tmp2"], ws["tmp"], ws["dh"]

    # stacked parameters -------------------------------------------------
    W_hh = params["W_hh"]
    Wzr_f = _stack_rows([params["W_hz"], params["W_hr"]], (-1.0, -1.0))  # (2H, H)
    W_hh_f = W_hh * -2.0
    WzrT = np.concatenate([params["W_hz"], params["W_hr"]]).T.copy()  # (H, 2H), backward
    W_hhT = np.ascontiguousarray(W_hh.T)
    Wx_f = _stack_rows([params["W_x" + k] for k in _GRU_ORDER], _GRU_SCALES)
    b_f = _stack_rows([params["b_" + k] for k in _GRU_ORDER], _GRU_SCALES)

    # forward ------------------------------------------------------------
    with np.errstate(over="ignore"):
        _set_initial(hs[0], initial_state, "h")
        _input_projection(xs, Wx_f, b_f, G)
        for t in range(T):
            gt = G[t]
            hp = hs[t]
            zr = gt[H:]
            np.matmul(Wzr_f, hp, out=tmp2)
            zr += tmp2
            np.exp(zr, out=zr)
            zr += 1.0
            np.reciprocal(zr, out=zr)  # z, r
            rh = RH[t]
            np.multiply(gt[H2:], hp, out=rh)
            np.matmul(W_hh_f, rh, out=tmp)
            ht = gt[:H]
            ht += tmp
            np.exp(ht, out=ht)
            ht += 1.0
            _finish_tanh(ht)  # h̃
            hn = hs[t + 1]
            np.subtract(ht, hp, out=hn)  # h_t = h_{t-1} + z ⊙ (h̃ - h_{t-1})
            hn *= gt[H:H2]
            hn += hp

    XH = ws["XH"]
    _row_states(hs, xs, XH)
    loss, dW_y, db_y = _readout(XH, ys, W_y, params["b_y"], ws["Z"], ws["dH"])

    # derivative factors for all steps at once --------------------------
    #   da_h = dh ⊙ [z ⊙ (1 - h̃²)]                Q[:, :H]
    #   da_z = dh ⊙ [(h̃ - h_{t-1}) ⊙ z(1-z)]      Q[:, H:2H]
    #   da_r = d(r⊙h) ⊙ [h_{t-1} ⊙ r(1-r)]         Q[:, 2H:]
    #   dh_{t-1} = dh ⊙ (1-z) + d(r⊙h) ⊙ r + [W_hz; W_hr]ᵀ [da_z; da_r]
    ht_, z_, r_ = G[:, :H], G[:, H:H2], G[:, H2:]
    hprev = hs[:-1]
    qh, qz, qr = Q[:, :H], Q[:, H:H2], Q[:, H2:]
    np.subtract(1.0, G[:, H:], out=Q[:, H:])
    Q[:, H:] *= G[:, H:]  # z(1-z), r(1-r)
    qr *= hprev
    np.subtract(ht_, hprev, out=OMZ)  # scratch: h̃ - h_{t-1}
    qz *= OMZ
    np.subtract(1.0, z_, out=OMZ)
    np.multiply(ht_, ht_, out=qh)
    np.subtract(1.0, qh, out=qh)
    qh *= z_

    # backward (Q turns into the pre-activation gradients, in place) -----
    Q3 = Q.reshape(T, 3, H, B)
    dH = ws["dH"]
    for t in range(T - 1, -1, -1):
        dht = dH[t]
        if t < T - 1:
            dht += dh
        qt = Q[t]
        hz = Q3[t, :2]
        np.multiply(dht, hz, out=hz)  # da_h, da_z
        np.matmul(W_hhT, qt[:H], out=tmp)  # d(r ⊙ h_{t-1})
        dar = qt[H2:]
        np.multiply(tmp, dar, out=dar)  # da_r
        np.matmul(WzrT, qt[H:], out=dh)
        tmp *= r_[t]
        dh += tmp
        np.multiply(dht, OMZ[t], out=tmp)
        dh += tmp

    DA = _time_major(Q, ws["DA"])  # (3H, T·B) [h; z; r]
    XH2 = XH[:T].reshape(N, H + X + 1)
    dWxb = DA @ XH2[:, H:]  # (3H, X+1) = [dW_x | db]
    dWzr = DA[H:] @ XH2[:, :H]  # (2H, H)
    RHR = ws["RHR"]
    np.copyto(RHR, RH.transpose(0, 2, 1))
    dW_hh = DA[:H] @ RHR.reshape(N, H)
    grads = {
        "W_xh": dWxb[:H, :X].copy(),
        "W_xz": dWxb[H:H2, :X].copy(),
        "W_xr": dWxb[H2:, :X].copy(),
        "b_h": dWxb[:H, X].copy(),
        "b_z": dWxb[H:H2, X].copy(),
        "b_r": dWxb[H2:, X].copy(),
        "W_hh": dW_hh,
        "W_hz": dWzr[:H],
        "W_hr": dWzr[H:],
        "W_y": dW_y,
        "b_y": db_y,
        "h_0": dh.T.copy(),
    }
    return loss, grads


BASELINES = {
    "rnn": rnn_loss_and_grads,
    "lstm": lstm_loss_and_grads,
    "gru": gru_loss_and_grads,
}
