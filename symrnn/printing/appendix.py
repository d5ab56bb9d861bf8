"""The backward step of a generated NumPy module, cut out for a document's appendix."""

from __future__ import annotations

import ast

BACKWARD_FUNCTION = "loss_and_grads"


def backward_step_source(module_source: str) -> tuple[str, bool]:
    """The source of ``loss_and_grads`` in ``module_source``, found by name with :mod:`ast`.

    Returns:
        ``(source, whole_module)``: the function's source text (decorators included), or the
        whole module with ``whole_module`` True when no top-level function has that name, so a
        change in the code generator never empties the appendix.
    """
    tree = ast.parse(module_source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == BACKWARD_FUNCTION:
            lines = module_source.splitlines()
            start = min([node.lineno, *(dec.lineno for dec in node.decorator_list)]) - 1
            return "\n".join(lines[start : node.end_lineno]) + "\n", False
    return module_source if module_source.endswith("\n") else module_source + "\n", True
