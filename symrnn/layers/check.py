"""Checks of a layer's arguments: each parameter, the inputs, initial states and the mask.

Messages name the argument and the expected shape in the math's sizes and in numbers, e.g.
``parameter 'W_hh' has shape (4, 3); expected (hidden_size, hidden_size) = (4, 4)``.
Arrays are anything with ``shape``, ``ndim`` and ``dtype`` (NumPy, torch, JAX).
"""

from __future__ import annotations

import sympy

from symrnn.ir import Node
from symrnn.layers.derive import LayerDerivation


def _is_float(a) -> bool:
    dtype = getattr(a, "dtype", None)
    if dtype is None:
        return False
    is_floating = getattr(dtype, "is_floating_point", None)  # torch
    if is_floating is not None:
        return bool(is_floating)
    kind = getattr(dtype, "kind", None)
    return kind == "f"


def _shape_text(node: Node) -> str:
    return f"({node.shape[0]},)" if node.is_column else f"({node.shape[0]}, {node.shape[1]})"


def _rank(node: Node) -> int:
    return 1 if node.is_column else 2


def bind_sizes(ld: LayerDerivation, params: dict, xs) -> dict[str, int]:
    """Every size symbol bound from the parameters and ``xs``; checks every parameter on the way.

    Raises:
        TypeError: a parameter or ``xs`` is not a floating-point array.
        ValueError: a missing or unknown parameter, a wrong rank or shape (naming both shapes).
    """
    if not hasattr(params, "items"):
        raise TypeError(f"params must be a dict of arrays keyed {list(ld.params)}; got {type(params).__name__}")
    if not _is_float(xs) or getattr(xs, "ndim", None) != 3:
        got = f"{getattr(xs, 'dtype', type(xs).__name__)} {tuple(getattr(xs, 'shape', ()))}"
        raise ValueError(f"xs must be a floating-point array of shape (T, batch, {ld.input.shape[0]}); got {got}")
    sizes: dict[sympy.Symbol, int] = {}
    x_size = ld.input.shape[0]
    for name, node in ld.params.items():
        if name not in params:
            raise ValueError(f"missing parameter {name!r}; expected shape {_shape_text(node)}")
        a = params[name]
        if not _is_float(a):
            got = getattr(a, "dtype", None) or type(a).__name__
            raise TypeError(
                f"parameter {name!r} must be a floating-point array of shape {_shape_text(node)}; got {got}"
            )
        if a.dtype != xs.dtype:
            raise TypeError(f"parameter {name!r} is {a.dtype} but xs is {xs.dtype}; give every array one dtype")
        if getattr(a, "device", None) != getattr(xs, "device", None) and hasattr(xs, "is_cuda"):  # torch
            raise ValueError(f"parameter {name!r} is on {a.device} but xs is on {xs.device}")
        if a.ndim != _rank(node):
            raise ValueError(f"parameter {name!r} has shape {tuple(a.shape)}; expected {_shape_text(node)}")
        for axis, dim in enumerate(node.shape[: _rank(node)]):
            if dim.is_Symbol:
                sizes.setdefault(dim, int(a.shape[axis]))
    if x_size.is_Symbol:  # the parameters fix the input size first: a wrong xs is named as such
        sizes.setdefault(x_size, int(xs.shape[2]))
    unknown = sorted(set(params) - set(ld.params))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r}; expected {list(ld.params)}")
    for name, node in ld.params.items():
        want = expected_shape(node, sizes)
        if want is not None and tuple(params[name].shape) != want:
            raise ValueError(
                f"parameter {name!r} has shape {tuple(params[name].shape)}; expected {_shape_text(node)} = {want}"
            )
    if x_size.free_symbols <= set(sizes) and int(x_size.subs(sizes)) != xs.shape[2]:
        raise ValueError(f"xs has {xs.shape[2]} features; expected {x_size} = {int(x_size.subs(sizes))}")
    return {str(k): v for k, v in sizes.items()}


def expected_shape(node: Node, sizes: dict) -> tuple[int, ...] | None:
    """The concrete shape of ``node`` at ``sizes`` (symbols or names → ints), None if a size is unbound."""
    by_symbol = {
        (k if isinstance(k, sympy.Symbol) else sympy.Symbol(k, positive=True, integer=True)): v
        for k, v in sizes.items()
    }
    dims = node.shape[: _rank(node)]
    if any(not d.free_symbols <= set(by_symbol) for d in dims):
        return None
    return tuple(int(d.subs(by_symbol)) for d in dims)


def check_state(name: str, value, want: tuple[int, int], dtype) -> None:
    """An initial state: a (batch, size) array of the dtype of xs."""
    if not _is_float(value):
        raise TypeError(f"initial state {name!r} must be a floating-point array of shape {want}; got {value!r:.60}")
    if value.dtype != dtype:
        raise TypeError(f"initial state {name!r} is {value.dtype} but xs is {dtype}; give every array one dtype")
    if tuple(value.shape) != want:
        raise ValueError(f"initial state {name!r} has shape {tuple(value.shape)}; expected (batch, size) = {want}")


def check_mask(mask, T: int, batch: int) -> None:
    """A mask: (T, batch), entries 0 or 1 (1 where the step is real)."""
    if tuple(getattr(mask, "shape", ())) != (T, batch):
        raise ValueError(f"mask must have shape (T, batch) = {(T, batch)}; got {tuple(getattr(mask, 'shape', ()))}")
    binary = ((mask == 0) | (mask == 1)).all()
    if not bool(binary):
        raise ValueError("mask entries must be 0 or 1 (1 where a step is real, 0 where it is padding)")


def check_grad(name: str, value, want: tuple[int, ...]) -> None:
    """An upstream gradient: the shape of what the forward pass returned."""
    if tuple(value.shape) != want:
        raise ValueError(f"{name} has shape {tuple(value.shape)}; expected {want} (the shape of the forward output)")
