"""Element-wise and loss helpers of the plain generated NumPy code (copied into every module).

Real Python so they can be imported and tested; the generated module carries their text
(:func:`symrnn.codegen.runtime.source_text`), so it stays standalone (NumPy only).
"""

import numpy as np


# ---- copied verbatim into generated modules from the next line on (runtime.source_text) ----
def _sigmoid(x):
    # σ(x) = exp(-logaddexp(0, -x)) without overflow for large |x|
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_ce(z, y):
    # Σ -yᵀ log softmax(z) from the logits, as Σ y ⊙ (log Σ e^{z - m} - (z - m)): both terms
    # are ≥ 0 for targets ≥ 0, so confident predictions lose no digits (m + log s - z would)
    shifted = z - z.max(axis=1, keepdims=True)
    return np.sum(y * (np.log(np.exp(shifted).sum(axis=1, keepdims=True)) - shifted))


def _sigmoid_bce(z, y):
    # Σ -(y log σ(z) + (1 - y) log(1 - σ(z))) = Σ max(z, 0) - z y + log(1 + e^{-|z|})
    return np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


def _squared_error(yhat, y):
    return 0.5 * np.sum((yhat - y) ** 2)


# ---- end of the copied text ----
