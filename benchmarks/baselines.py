"""Hand-written, vectorised NumPy forward + BPTT baselines for RNN, LSTM and GRU.

These are the reference implementations the generated code is benchmarked
against, so they are written the way a careful NumPy programmer would write
them for speed (plain NumPy only):

* the per-gate parameter matrices are concatenated once per call (that cost is
  part of the timing, exactly as a user holding the separate-matrix layout
  would pay it);
* the input projections of all time steps are one GEMM before the loop;
* the gates of one step are one matrix product with the stacked recurrent
  matrix;
* every element-wise derivative factor that does not depend on the incoming
  gradient is computed for all steps at once, outside the recurrence, so the
  backward loop is only a handful of ufunc calls plus one or two GEMMs per step;
* the weight gradients are one GEMM over all (time x batch) rows after the loop;
* buffers are preallocated and ``out=`` is used inside the loops;
* the dtype is preserved: float32 stays float32 throughout (Python scalars are
  "weak" under NEP 50, so they never upcast).

Conventions (maths per example with column vectors, code batched with rows):

* ``xs``: (T, B, X); ``ys``: (T, B, O) targets whose rows sum to one (one-hot
  or probability vectors, which is what makes ``d loss / d logits = ŷ - y``);
* ``initial_state``: ``None`` (zeros) or ``{"h": (B, H)}`` (+ ``"c"`` for the
  LSTM);
* parameters: matrices stored (rows, cols) as written in the maths, biases 1-D;
* readout ``ȳ_t = W_y h_t + b_y``; loss ``J = Σ_t Σ_batch -y_tᵀ log softmax(ȳ_t)``
  (a sum, not a mean), computed with a log-sum-exp;
* return value ``(loss, grads)``: ``grads`` has the parameter keys plus
  ``"h_0"`` (and ``"c_0"`` for the LSTM), the gradients with respect to the
  initial state.

Sigmoids are evaluated as ``σ(a) = ½ tanh(a / 2) + ½``.  The factor ½ is folded
into the rows of the stacked weights and biases of the sigmoid gates (scaling by
a power of two is exact in binary floating point), so one ``tanh`` call covers
all gates of a step and only an in-place ``*= ½; += ½`` remains for the sigmoid
block.  This is accurate to rounding and avoids ``exp`` overflow warnings.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "rnn_loss_and_grads",
    "lstm_loss_and_grads",
    "gru_loss_and_grads",
    "BASELINES",
]


# ---------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------


def _initial(initial_state, key, B, H, dtype):
    if initial_state is None or initial_state.get(key) is None:
        return np.zeros((B, H), dtype=dtype)
    return np.asarray(initial_state[key], dtype=dtype)


def _readout_forward_backward(hs2, ys2, W_y, b_y):
    """Readout, summed softmax cross-entropy and its backward pass.

    ``hs2`` is (N, H) (all time steps and batch rows stacked), ``ys2`` is (N, O).
    Returns ``(loss, dH, dW_y, db_y)`` with ``dH = (ŷ - y) W_y`` of shape (N, H).
    """
    z = hs2 @ W_y.T  # (N, O)
    z += b_y
    m = z.max(axis=1, keepdims=True)
    z -= m  # shifted logits, max 0 per row
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    log_s = np.log(s)
    # J = Σ_n Σ_k -y_nk (z_nk - log s_n) = Σ_n (Σ_k y_nk) log s_n - <y, z>
    loss = np.vdot(ys2.sum(axis=1), log_s[:, 0]) - np.vdot(ys2, z)
    # d J / d logits = softmax - y   (rows of y sum to one)
    e /= s
    e -= ys2
    dY = e
    dH = dY @ W_y  # (N, H)
    dW_y = dY.T @ hs2  # (O, H)
    db_y = dY.sum(axis=0)
    return loss, dH, dW_y, db_y


def _sigmoid_from_half_tanh(block):
    """In place: ``block`` holds tanh(a/2); turn it into σ(a) = ½ tanh(a/2) + ½."""
    block *= 0.5
    block += 0.5


# ---------------------------------------------------------------------------
# vanilla (Elman) RNN
# ---------------------------------------------------------------------------


def rnn_loss_and_grads(params, xs, ys, initial_state=None):
    """Loss and gradients of the tanh RNN ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)``."""
    xs = np.asarray(xs)
    dtype = xs.dtype
    T, B, X = xs.shape
    W_hh = params["W_hh"]
    W_xh = params["W_xh"]
    b_h = params["b_h"]
    W_y = params["W_y"]
    b_y = params["b_y"]
    H = W_hh.shape[0]
    O = W_y.shape[0]
    N = T * B
    xs2 = xs.reshape(N, X)

    # forward ------------------------------------------------------------
    hs = np.empty((T + 1, B, H), dtype=dtype)  # hs[0] = h_0, hs[t+1] = h_t
    hs[0] = _initial(initial_state, "h", B, H, dtype)
    # all input projections at once, written straight into the state buffer
    hs2_out = hs[1:].reshape(N, H)
    np.matmul(xs2, W_xh.T, out=hs2_out)
    hs2_out += b_h
    W_hhT = W_hh.T
    tmp = np.empty((B, H), dtype=dtype)
    for t in range(T):
        np.matmul(hs[t], W_hhT, out=tmp)
        ht = hs[t + 1]
        ht += tmp
        np.tanh(ht, out=ht)

    loss, dH, dW_y, db_y = _readout_forward_backward(hs2_out, ys.reshape(N, O), W_y, b_y)

    # backward -----------------------------------------------------------
    # tanh' = 1 - h², for every step at once
    dA = np.square(hs2_out).reshape(T, B, H)
    np.subtract(1.0, dA, out=dA)
    dH = dH.reshape(T, B, H)
    dh = None
    for t in range(T - 1, -1, -1):
        dht = dH[t]
        if dh is not None:
            dht += dh
        dat = dA[t]
        dat *= dht
        dh = dat @ W_hh
    dA2 = dA.reshape(N, H)
    grads = {
        "W_hh": dA2.T @ hs[:-1].reshape(N, H),
        "W_xh": dA2.T @ xs2,
        "b_h": dA2.sum(axis=0),
        "W_y": dW_y,
        "b_y": db_y,
        "h_0": dh,
    }
    return loss, grads


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------

# Internal gate order of the stacked matrices: g, f, i, o.
#   * the sigmoid gates f, i, o are one contiguous block  -> one activation call;
#   * the gates whose gradient is (dc ⊙ something) -- g, f, i -- are one
#     contiguous block -> one broadcast multiply per backward step;
#   * o (gradient dh ⊙ tanh c) is the last block.
_LSTM_ORDER = ("g", "f", "i", "o")


def lstm_loss_and_grads(params, xs, ys, initial_state=None):
    """Loss and gradients of the forget-gate LSTM (gates f, i, o sigmoid; g tanh)."""
    xs = np.asarray(xs)
    dtype = xs.dtype
    T, B, X = xs.shape
    H = params["W_hf"].shape[0]
    W_y = params["W_y"]
    b_y = params["b_y"]
    O = W_y.shape[0]
    N = T * B
    H2, H3, H4 = 2 * H, 3 * H, 4 * H
    xs2 = xs.reshape(N, X)

    # stacked parameters (paid once per call) ---------------------------
    Wx = np.concatenate([params["W_x" + k] for k in _LSTM_ORDER])  # (4H, X)
    Wh = np.concatenate([params["W_h" + k] for k in _LSTM_ORDER])  # (4H, H), for backward
    b = np.concatenate([params["b_" + k] for k in _LSTM_ORDER])  # (4H,)
    # forward copies with the sigmoid rows halved (exact), see module docstring
    Wx_f = Wx.copy()
    Wx_f[H:] *= 0.5
    Wh_fT = Wh.T.copy()  # (H, 4H) contiguous
    Wh_fT[:, H:] *= 0.5
    b_f = b.copy()
    b_f[H:] *= 0.5

    # forward ------------------------------------------------------------
    G = np.empty((T, B, H4), dtype=dtype)  # activated gates [g, f, i, o]
    G2 = G.reshape(N, H4)
    np.matmul(xs2, Wx_f.T, out=G2)  # all input projections in one GEMM
    G2 += b_f
    C = np.empty((T + 1, B, H), dtype=dtype)  # C[0] = c_0
    C[0] = _initial(initial_state, "c", B, H, dtype)
    hs = np.empty((T + 1, B, H), dtype=dtype)  # hs[0] = h_0
    hs[0] = _initial(initial_state, "h", B, H, dtype)
    TC = np.empty((T, B, H), dtype=dtype)  # tanh(c_t)
    tmp4 = np.empty((B, H4), dtype=dtype)
    tmp = np.empty((B, H), dtype=dtype)
    for t in range(T):
        gt = G[t]
        np.matmul(hs[t], Wh_fT, out=tmp4)
        gt += tmp4
        np.tanh(gt, out=gt)
        _sigmoid_from_half_tanh(gt[:, H:])
        g = gt[:, :H]
        f = gt[:, H:H2]
        i = gt[:, H2:H3]
        o = gt[:, H3:]
        ct = C[t + 1]
        np.multiply(f, C[t], out=ct)
        np.multiply(i, g, out=tmp)
        ct += tmp
        tct = TC[t]
        np.tanh(ct, out=tct)
        np.multiply(o, tct, out=hs[t + 1])

    hs2 = hs[1:].reshape(N, H)
    loss, dH, dW_y, db_y = _readout_forward_backward(hs2, ys.reshape(N, O), W_y, b_y)

    # derivative factors for all steps at once (outside the recurrence) --
    # P[..., :3H] multiplies dc_t:  [g, f, i] pre-activation grads are
    #   da_g = dc ⊙ i ⊙ (1 - g²),  da_f = dc ⊙ c_{t-1} ⊙ f(1-f),  da_i = dc ⊙ g ⊙ i(1-i)
    # P[..., 3H:] multiplies dh_t:  da_o = dh ⊙ tanh(c) ⊙ o(1-o)
    # E multiplies dh_t into dc_t:  dc += dh ⊙ o ⊙ (1 - tanh²c)
    g_ = G[..., :H]
    f_ = G[..., H:H2]
    i_ = G[..., H2:H3]
    o_ = G[..., H3:]
    P = np.empty((T, B, H4), dtype=dtype)
    pg, pf, pi, po = P[..., :H], P[..., H:H2], P[..., H2:H3], P[..., H3:]
    # sigmoid derivative s(1-s) for f, i, o in one pass, tanh' for g
    np.subtract(1.0, G, out=P)
    P *= G
    np.square(g_, out=pg)
    np.subtract(1.0, pg, out=pg)
    pg *= i_
    pf *= C[:-1]
    pi *= g_
    po *= TC
    E = np.square(TC)
    np.subtract(1.0, E, out=E)
    E *= o_

    # backward -----------------------------------------------------------
    dA = np.empty((T, B, H4), dtype=dtype)  # pre-activation gradients [g, f, i, o]
    dA4 = dA.reshape(T, B, 4, H)
    P4 = P.reshape(T, B, 4, H)
    dH = dH.reshape(T, B, H)
    dc = np.zeros((B, H), dtype=dtype)
    dh = None
    for t in range(T - 1, -1, -1):
        dht = dH[t]
        if dh is not None:
            dht += dh
        np.multiply(dht, E[t], out=tmp)
        dc += tmp
        np.multiply(dc[:, None, :], P4[t, :, :3], out=dA4[t, :, :3])
        np.multiply(dht, po[t], out=dA4[t, :, 3])
        dc *= f_[t]  # dc_{t-1} (the forget-gate path)
        dh = dA[t] @ Wh  # dh_{t-1} (the recurrent path)

    dA2 = dA.reshape(N, H4)
    dWx = dA2.T @ xs2  # (4H, X)
    dWh = dA2.T @ hs[:-1].reshape(N, H)  # (4H, H)
    db = dA2.sum(axis=0)
    grads = {}
    for n, k in enumerate(_LSTM_ORDER):
        rows = slice(n * H, (n + 1) * H)
        grads["W_x" + k] = dWx[rows]
        grads["W_h" + k] = dWh[rows]
        grads["b_" + k] = db[rows]
    grads["W_y"] = dW_y
    grads["b_y"] = db_y
    grads["h_0"] = dh
    grads["c_0"] = dc
    return loss, grads


# ---------------------------------------------------------------------------
# GRU (Chung et al. 2014: reset before the recurrent product)
# ---------------------------------------------------------------------------

# Internal gate order: h (candidate), z, r.
#   * forward: z and r share one GEMM with [W_hz; W_hr]; the candidate needs
#     r ⊙ h_{t-1} first, so it is a second GEMM;
#   * backward: [da_h, da_z] = dh ⊙ [Q_h, Q_z] is one broadcast multiply and
#     [da_z, da_r] is contiguous for the GEMM with [W_hz; W_hr].
_GRU_ORDER = ("h", "z", "r")


def gru_loss_and_grads(params, xs, ys, initial_state=None):
    """Loss and gradients of the GRU ``h_t = (1 - z) ⊙ h_{t-1} + z ⊙ tanh(W_xh x + W_hh (r ⊙ h_{t-1}) + b_h)``."""
    xs = np.asarray(xs)
    dtype = xs.dtype
    T, B, X = xs.shape
    H = params["W_hh"].shape[0]
    W_y = params["W_y"]
    b_y = params["b_y"]
    O = W_y.shape[0]
    N = T * B
    H2, H3 = 2 * H, 3 * H
    xs2 = xs.reshape(N, X)

    # stacked parameters -------------------------------------------------
    Wx = np.concatenate([params["W_x" + k] for k in _GRU_ORDER])  # (3H, X) [h, z, r]
    b = np.concatenate([params["b_" + k] for k in _GRU_ORDER])
    W_hh = params["W_hh"]
    Wzr = np.concatenate([params["W_hz"], params["W_hr"]])  # (2H, H), backward
    # forward copies, sigmoid rows (z, r) halved
    Wx_f = Wx.copy()
    Wx_f[H:] *= 0.5
    b_f = b.copy()
    b_f[H:] *= 0.5
    Wzr_fT = Wzr.T * 0.5  # (H, 2H) contiguous
    W_hhT = W_hh.T

    # forward ------------------------------------------------------------
    G = np.empty((T, B, H3), dtype=dtype)  # [h̃, z, r] after activation
    G2 = G.reshape(N, H3)
    np.matmul(xs2, Wx_f.T, out=G2)
    G2 += b_f
    hs = np.empty((T + 1, B, H), dtype=dtype)
    hs[0] = _initial(initial_state, "h", B, H, dtype)
    RH = np.empty((T, B, H), dtype=dtype)  # r_t ⊙ h_{t-1}, needed for dW_hh
    tmp2 = np.empty((B, H2), dtype=dtype)
    tmp = np.empty((B, H), dtype=dtype)
    for t in range(T):
        gt = G[t]
        hp = hs[t]
        zr = gt[:, H:]
        np.matmul(hp, Wzr_fT, out=tmp2)
        zr += tmp2
        np.tanh(zr, out=zr)
        _sigmoid_from_half_tanh(zr)
        rh = RH[t]
        np.multiply(gt[:, H2:], hp, out=rh)
        np.matmul(rh, W_hhT, out=tmp)
        ht = gt[:, :H]
        ht += tmp
        np.tanh(ht, out=ht)
        hn = hs[t + 1]
        np.subtract(ht, hp, out=hn)  # h_t = h_{t-1} + z ⊙ (h̃ - h_{t-1})
        hn *= gt[:, H:H2]
        hn += hp

    hs2 = hs[1:].reshape(N, H)
    loss, dH, dW_y, db_y = _readout_forward_backward(hs2, ys.reshape(N, O), W_y, b_y)

    # derivative factors for all steps at once --------------------------
    #   da_h = dh ⊙ z ⊙ (1 - h̃²)                 -> Q[..., :H]
    #   da_z = dh ⊙ (h̃ - h_{t-1}) ⊙ z(1-z)       -> Q[..., H:2H]
    #   da_r = d(r⊙h) ⊙ h_{t-1} ⊙ r(1-r)          -> Q[..., 2H:]
    #   dh_{t-1} = dh ⊙ (1-z) + d(r⊙h) ⊙ r + [da_z, da_r] [W_hz; W_hr]
    ht_ = G[..., :H]
    z_ = G[..., H:H2]
    r_ = G[..., H2:]
    hprev = hs[:-1]
    Q = np.empty((T, B, H3), dtype=dtype)
    qh, qz, qr = Q[..., :H], Q[..., H:H2], Q[..., H2:]
    np.subtract(1.0, G, out=Q)  # 1 - h̃, 1 - z, 1 - r
    Q[..., H:] *= G[..., H:]  # z(1-z), r(1-r)
    np.square(ht_, out=qh)
    np.subtract(1.0, qh, out=qh)
    qh *= z_
    qz *= np.subtract(ht_, hprev)
    qr *= hprev
    one_minus_z = np.subtract(1.0, z_)

    # backward -----------------------------------------------------------
    dA = np.empty((T, B, H3), dtype=dtype)  # pre-activation grads [h, z, r]
    dA3 = dA.reshape(T, B, 3, H)
    Q3 = Q.reshape(T, B, 3, H)
    dH = dH.reshape(T, B, H)
    drh = np.empty((B, H), dtype=dtype)
    dh = None
    for t in range(T - 1, -1, -1):
        dht = dH[t]
        if dh is not None:
            dht += dh
        dat = dA[t]
        np.multiply(dht[:, None, :], Q3[t, :, :2], out=dA3[t, :, :2])
        np.matmul(dat[:, :H], W_hh, out=drh)  # d(r ⊙ h_{t-1})
        np.multiply(drh, qr[t], out=dat[:, H2:])
        dh = dat[:, H:] @ Wzr
        np.multiply(drh, r_[t], out=drh)
        dh += drh
        np.multiply(dht, one_minus_z[t], out=drh)
        dh += drh

    dA2 = dA.reshape(N, H3)
    dWx = dA2.T @ xs2  # (3H, X) [h, z, r]
    db = dA2.sum(axis=0)
    dWzr = dA2[:, H:].T @ hprev.reshape(N, H)  # (2H, H)
    dW_hh = dA2[:, :H].T @ RH.reshape(N, H)
    grads = {
        "W_xh": dWx[:H],
        "W_xz": dWx[H:H2],
        "W_xr": dWx[H2:],
        "b_h": db[:H],
        "b_z": db[H:H2],
        "b_r": db[H2:],
        "W_hh": dW_hh,
        "W_hz": dWzr[:H],
        "W_hr": dWzr[H:],
        "W_y": dW_y,
        "b_y": db_y,
        "h_0": dh,
    }
    return loss, grads


BASELINES = {
    "rnn": rnn_loss_and_grads,
    "lstm": lstm_loss_and_grads,
    "gru": gru_loss_and_grads,
}
