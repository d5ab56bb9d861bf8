"""pytorch-nn-lstm: every claim of the note recomputed with torch autograd in float64.

The note's forward equations are first checked against torch.nn.LSTM itself (same weights, same
outputs), so the stacking order (i, f, g, o) is PyTorch's and not an assumption of this script.
"""

import sys

import torch
from _harness import probe, report

SLUG = "pytorch-nn-lstm"


def main() -> int:
    gen = torch.Generator().manual_seed(1)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.6

    D, H, T = 2, 3, 4
    W_ih, W_hh, b_ih, b_hh = rand(4 * H, D), rand(4 * H, H), rand(4 * H, 1), rand(4 * H, 1)
    params = [W_ih, W_hh, b_ih, b_hh]
    for p in params:
        p.requires_grad_(True)
    xs, ys = [rand(D, 1) for _ in range(T)], [rand(H, 1) for _ in range(T)]
    h0, c0 = rand(H, 1), rand(H, 1)
    sig = torch.sigmoid
    h, c = h0, c0
    hs, cs, gates, pa, ph, pc = [h0], [c0], [], [], [], []
    for t in range(T):
        qa, qh, qc = probe(4 * H), probe(H), probe(H)
        a = W_ih @ xs[t] + b_ih + W_hh @ h + b_hh + qa
        i, f, g, o = sig(a[:H]), sig(a[H : 2 * H]), torch.tanh(a[2 * H : 3 * H]), sig(a[3 * H :])
        c = f * c + i * g + qc
        h = o * torch.tanh(c) + qh
        hs.append(h)
        cs.append(c.detach())
        gates.append((i.detach(), f.detach(), g.detach(), o.detach()))
        pa.append(qa)
        ph.append(qh)
        pc.append(qc)
    # the note's model is nn.LSTM's
    lstm = torch.nn.LSTM(D, H).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(W_ih)
        lstm.weight_hh_l0.copy_(W_hh)
        lstm.bias_ih_l0.copy_(b_ih[:, 0])
        lstm.bias_hh_l0.copy_(b_hh[:, 0])
        out, _ = lstm(torch.cat([x.T for x in xs]).unsqueeze(1), (h0.T.unsqueeze(0), c0.T.unsqueeze(0)))
    mine = torch.cat([v.detach().T for v in hs[1:]])
    if not torch.allclose(out[:, 0, :], mine, atol=1e-12, rtol=0):
        print(f"{SLUG}: MISMATCH the note's forward equations differ from torch.nn.LSTM")
        return 1
    L = torch.nn.functional.mse_loss(torch.cat([v.T for v in hs[1:]]), torch.cat([y.T for y in ys]))
    grads = torch.autograd.grad(L, params + pa + ph + pc)
    gW_ih, gW_hh, gb_ih, gb_hh = grads[:4]
    da, dh, dc = list(grads[4 : 4 + T]), grads[4 + T : 4 + 2 * T], grads[4 + 2 * T :]
    da.append(torch.zeros(4 * H, 1, dtype=torch.float64))
    hd = [v.detach() for v in hs]
    Whh = W_hh.detach()

    def blocks(t):
        i, f, g, o = gates[t]
        return (
            dc[t] * g * i * (1 - i),
            dc[t] * cs[t] * f * (1 - f),
            dc[t] * i * (1 - g * g),
            dh[t] * torch.tanh(cs[t + 1]) * o * (1 - o),
        )

    def swapped(t):  # the note's last line: blocks of the true gradient in the order i, f, o, g
        q = da[t]
        return torch.cat([q[:H], q[H : 2 * H], q[3 * H :], q[2 * H : 3 * H]])

    st = torch.stack
    rng = range(T)
    claims = [
        (
            35,
            "holds",
            r"\nabla_{a_t} L = \begin{bmatrix}",
            "grad a_t as four blocks",
            st(da[:T]),
            st([torch.cat(blocks(t)) for t in rng]),
        ),
        (
            39,
            "holds",
            r"\nabla_{h_t} L = \frac{2}{TH}",
            "grad h_t",
            st(list(dh)),
            st([2 / (T * H) * (hd[t + 1] - ys[t]) + Whh.T @ da[t + 1] for t in rng]),
        ),
        (
            41,
            "wrong",
            r"\nabla_{c_t} L =",
            "grad c_t",
            st(list(dc)),
            st([dh[t] * gates[t][3] * (1 - torch.tanh(cs[t + 1]) ** 2) for t in rng]),
        ),
        (43, "holds", r"\nabla_{W_{ih}} L = \sum", "grad weight_ih (4H x D)", gW_ih, sum(da[t] @ xs[t].T for t in rng)),
        (45, "holds", r"\nabla_{b_{hh}} L = \nabla_{b_{ih}} L", "grad bias_hh = grad bias_ih", gb_hh, gb_ih),
        (
            47,
            "wrong",
            r"\nabla_{W_{hh}} L = \sum",
            "grad weight_hh with blocks i, f, o, g",
            gW_hh,
            sum(swapped(t) @ hd[t].T for t in rng),
        ),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
