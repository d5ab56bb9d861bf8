"""The few operations the references are written in: σ, tanh, relu and the stacked vector [a; b]."""

import torch

sigmoid = torch.sigmoid
tanh = torch.tanh
relu = torch.relu


def stack(*parts):
    """[a; b; …]: column vectors stacked (rows), as the papers' [h_{t-1}, x_t]."""
    return torch.cat(parts, dim=0)
