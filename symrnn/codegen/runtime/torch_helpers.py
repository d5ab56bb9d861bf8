"""Helpers of the generated torch code: activations, losses, argument checks (copied into every module).

Real Python so they can be imported and tested (torch is imported by this module, as by the
generated one); each generated module defines its own ``PARAMETERS`` before this text.
"""

# ---- copied verbatim into generated modules from the next line on (runtime.source_text) ----
import torch


def _sigmoid(x):
    return torch.sigmoid(x)


def _softmax(z):
    return torch.softmax(z, dim=1)


def _softmax_ce(z, y):
    shifted = z - z.max(dim=1, keepdim=True).values  # no digits lost for confident predictions
    return torch.sum(y * (torch.logsumexp(shifted, dim=1, keepdim=True) - shifted))


def _sigmoid_bce(z, y):
    return torch.sum(torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-torch.abs(z))))


def _squared_error(yhat, y):
    return 0.5 * torch.sum((yhat - y) ** 2)


def _shape(params, name):
    if name not in params:
        raise ValueError(f"missing parameter {name!r}; expected {PARAMETERS[name]}")
    return tuple(params[name].shape)


def _check(params, expected):
    for name, shape in expected.items():
        if _shape(params, name) != shape:
            given = tuple(params[name].shape)
            raise ValueError(f"parameter {name!r} has shape {given}; expected {PARAMETERS[name]} = {shape}")


def _initial(initial_state, name, batch_size, size, dtype):
    if initial_state is None or initial_state.get(name) is None:
        return torch.zeros((batch_size, size), **dtype)
    s = initial_state[name]
    if tuple(s.shape) != (batch_size, size):
        raise ValueError(f"initial state {name!r} has shape {tuple(s.shape)}; expected {(batch_size, size)}")
    return s


# ---- end of the copied text ----

PARAMETERS: dict[str, str] = {}  # each generated module has its own, printed before these helpers
