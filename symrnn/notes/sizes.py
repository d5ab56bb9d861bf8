"""Concrete shapes for a note's model: every symbol a (rows, cols) pair of small integers.

Each symbol gets two unknown dimensions; the forward equations add constraints
(a matrix product joins the inner dimensions, element-wise operations join
both, a stack ``[a; b]`` makes a dimension the sum of its parts, a stated
shape ``W \\in \\mathbb{R}^{4H \\times D}`` names them).  Timed values are
vectors: columns under the column convention (``W_x x_t``), rows under the row
convention (``x_t W_x``); both are tried and the one that fits the note without
collapsing a parameter to a number wins.  What no equation fixes gets a small
size of its own (distinct sizes, so a transposed product cannot pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .entries import index_letters
from .model import STEP_COUNTS, NoteModel, is_scalar_expr
from .reading import key
from .tree import (
    Add,
    Apply,
    Concat,
    Entry,
    Frac,
    Func,
    Matrix,
    Neg,
    Norm,
    Number,
    Power,
    Product,
    Sub,
    Sum,
    Symbol,
    Transpose,
)
from .unit_sums import labelled_by_index, unit_sum_body

FREE_SIZES = (3, 2, 4, 5, 6, 7, 8)
ONES = "1"  # the name of \mathbf{1} and \mathbf{1}_N: a vector of ones
# The stated "shape" of every value of a note written unit by unit (compared by identity).
SCALAR = Number("1")
ELEMENTWISE = frozenset({"*", "odot", "circ", "ast", "otimes"})


class ShapeFailure(ValueError):
    """The forward equations do not fit any shapes (the message says which two dimensions clash)."""


@dataclass
class Dims:
    """Union-find over dimensions, with fixed values and sum constraints."""

    parent: list[int] = field(default_factory=list)
    value: dict[int, int] = field(default_factory=dict)
    sums: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)
    forced_one: list[str] = field(default_factory=list)

    def new(self, value: int | None = None) -> int:
        self.parent.append(len(self.parent))
        d = len(self.parent) - 1
        if value is not None:
            self.value[d] = value
        return d

    def find(self, d: int) -> int:
        while self.parent[d] != d:
            self.parent[d] = self.parent[self.parent[d]]
            d = self.parent[d]
        return d

    def join(self, a: int, b: int, why: str) -> None:
        a, b = self.find(a), self.find(b)
        if a == b:
            return
        va, vb = self.value.get(a), self.value.get(b)
        if va is not None and vb is not None and va != vb:
            raise ShapeFailure(f"{why}: sizes {va} and {vb}")
        self.parent[b] = a
        if va is None and vb is not None:
            self.value[a] = vb

    def get(self, d: int) -> int | None:
        return self.value.get(self.find(d))

    def set(self, d: int, v: int, why: str) -> None:
        r = self.find(d)
        if r in self.value and self.value[r] != v:
            raise ShapeFailure(f"{why}: sizes {self.value[r]} and {v}")
        self.value[r] = v

    def solve(self, free_sizes: tuple[int, ...] = FREE_SIZES) -> None:
        """Fix every dimension: propagate sums, then give free ones small distinct sizes."""
        free = iter(tuple(free_sizes) * 8)
        while True:
            self._propagate()
            unknown = [self.find(d) for d in range(len(self.parent)) if self.get(d) is None]
            if not unknown:
                return
            totals = {self.find(t) for t, _ in self.sums}
            parts = [d for d in unknown if d not in totals] or unknown
            d = parts[0]
            size = next(free)
            room = self._room(d)
            if room is not None and size > room:
                size = max(1, room)  # a block of a stack whose height is known: leave the others a row each
            self.value[d] = size

    def _room(self, d: int) -> int | None:
        """The most rows block d may take in the stacks it is part of (None: no known height bounds it)."""
        r, best = self.find(d), None
        for total, parts in self.sums:
            t = self.get(total)
            roots = [self.find(p) for p in parts]
            if t is None or r not in roots:
                continue
            others = [p for p, root in zip(parts, roots, strict=True) if root != r]
            known = sum(self.get(p) or 0 for p in others)
            open_ = sum(1 for p in others if self.get(p) is None)
            room = (t - known - open_) // roots.count(r)
            best = room if best is None else min(best, room)
        return best

    def _propagate(self) -> None:
        changed = True
        while changed:
            changed = False
            for total, parts in self.sums:
                known = [self.get(p) for p in parts]
                t = self.get(total)
                if all(k is not None for k in known):
                    s = sum(known)
                    if t is None:
                        self.set(total, s, "a stack")
                        changed = True
                    elif t != s:
                        raise ShapeFailure(f"a stack of {'+'.join(map(str, known))} rows where {t} are needed")
                elif t is not None and sum(k is None for k in known) == 1:
                    rest = t - sum(k for k in known if k is not None)
                    if rest < 1:
                        raise ShapeFailure(f"a block of {rest} rows")
                    missing = parts[known.index(None)]
                    self.set(missing, rest, "a stack")
                    changed = True


Shape = tuple[int, int]


@dataclass
class Shapes:
    """The solved shapes: symbol key → (rows, cols); ``convention`` is "column" or "row"."""

    of: dict[tuple, Shape]
    convention: str
    sizes: dict[str, int] = field(default_factory=dict)  # size letter of the stated shapes → its size

    def describe(self) -> str:
        return ", ".join(f"{k[0]}{'_' + k[2] if k[2] else ''} {r}×{c}" for k, (r, c) in self.of.items())


def solve_shapes(
    model: NoteModel, stated: dict[tuple, object] | None = None, free_sizes: tuple[int, ...] = FREE_SIZES
) -> Shapes:
    """Shapes for every symbol of the model, trying column then row vectors.

    Args:
        model: the note's model.
        stated: symbol key → the exponent tree of ``\\mathbb{R}^{…}`` the note stated.
        free_sizes: the sizes given, in turn, to dimensions no equation fixes.

    Returns:
        The Shapes of the convention that fits with fewest parameters forced to size 1.

    Raises:
        ShapeFailure: neither convention fits the forward equations.
    """
    results, errors = [], []
    for convention in ("column", "row"):
        try:
            dims, table = _constrain(model, convention, stated or {})
            dims.solve(free_sizes)
            shapes = {k: (dims.get(r), dims.get(c)) for k, (r, c) in table.items()}
            penalty = sum(
                1
                for k in model.params()
                if k in shapes and shapes[k] == (1, 1) and not model.is_number(k) and k[0] != ONES
            )
            # Two size letters the note keeps apart (D, H) made one size by a convention: a misreading.
            merged = len(dims.names) - len({dims.find(d) for d in dims.names.values()})
            sizes = {name: dims.get(d) for name, d in dims.names.items()}
            results.append(((penalty, merged), len(results), Shapes(shapes, convention, sizes)))
        except ShapeFailure as error:
            errors.append(f"{convention} vectors: {error}")
    if not results:
        raise ShapeFailure("; ".join(errors))
    return min(results, key=lambda r: (r[0], r[1]))[2]


def _vectors(left, right, model: NoteModel) -> bool:
    """Are both factors timed vectors (no parameter, no transpose among them)?"""
    from .reading import walk

    def timed_only(node) -> bool:
        syms = [n for n in walk(node) if isinstance(n, Symbol)]
        if any(isinstance(n, Transpose) for n in walk(node)):
            return False
        return bool(syms) and all(s.time is not None or model.is_number(key(s)) for s in syms)

    return timed_only(left) and timed_only(right)


def size_letters(stated: dict[tuple, object]) -> frozenset:
    """The letters stated shapes use as sizes: N, D and H of ``\\mathbb{R}^{N \\times D}``, ``\\mathbb{R}^{4H}``.

    T stays the number of steps, and a loss letter is never a size.
    """
    out = set()

    def visit(node) -> None:
        if isinstance(node, Symbol) and not node.sub and not node.sup and not node.accents and node.time is None:
            if node.name not in STEP_COUNTS - {"N"} and node.name not in ("J", "L", "E", "ell"):
                out.add(node.name)
        elif isinstance(node, Product) and node.op == "times":
            visit(node.left)
            visit(node.right)
        elif isinstance(node, Product) and isinstance(node.left, Number):
            visit(node.right)

    for exponent in stated.values():
        visit(exponent)
    return frozenset(out)


def _batched(model: NoteModel, stated: dict) -> bool:
    """Does the note state a timed value as a matrix (x_t \\in \\mathbb{R}^{N \\times D}): a minibatch per step?"""
    for k, exponent in stated.items():
        symbol = model.symbols.get(k)
        if symbol is None or symbol.time is None or symbol.time.var in STEP_COUNTS:
            continue
        if isinstance(exponent, Product) and exponent.op == "times":
            if not any(isinstance(n, Number) and n.value == 1 for n in (exponent.left, exponent.right)):
                return True
    return False


def _inner_product(node, model: NoteModel) -> bool:
    """``w^\\top h``: a matrix product of a transposed factor, neither factor a number."""
    return (
        isinstance(node, Product)
        and node.op not in ELEMENTWISE
        and isinstance(node.left, Transpose)
        and not is_scalar_expr(node.left, model)
        and not is_scalar_expr(node.right, model)
    )


def _timed_value(node) -> bool:
    return isinstance(node, Symbol) and node.time is not None and node.time.var not in STEP_COUNTS and node.name != ONES


def _untimed(node, model: NoteModel) -> bool:
    """Only parameters (no value of a step): a bias or a weight, which a minibatch broadcasts over its rows."""
    from .reading import walk

    syms = [n for n in walk(node) if isinstance(n, Symbol)]
    return bool(syms) and all(s.time is None and key(s) not in model.definitions for s in syms)


def _constrain(model: NoteModel, convention: str, stated: dict) -> tuple[Dims, dict]:
    dims = Dims()
    one = dims.new(1)
    table: dict[tuple, tuple[int, int]] = {}
    sizes_by_letter: dict[str, int] = dims.names
    # A minibatch: every timed value has a batch axis (rows under the row convention), one size for all.
    batched = _batched(model, stated)
    batch = dims.new() if batched else one

    def shape_of(k: tuple) -> tuple[int, int]:
        if k not in table:
            symbol = model.symbols.get(k)
            if model.is_number(k) or (k[0] in ("J", "L", "E", "loss", "ell")) or k in model.scalars:
                table[k] = (one, one)
            elif k[0] == ONES and not k[1] and not k[3]:
                # \mathbf{1}: a number 1 broadcast; \mathbf{1}_N: a column of N ones (N a size letter or not)
                if k[2] is None:
                    table[k] = (one, one)
                else:
                    if k[2] not in sizes_by_letter:
                        sizes_by_letter[k[2]] = dims.new()
                    table[k] = (sizes_by_letter[k[2]], one)
            elif symbol is not None and symbol.time is not None and symbol.time.var not in STEP_COUNTS:
                n = dims.new()
                table[k] = (n, batch) if convention == "column" else (batch, n)
            else:
                table[k] = (dims.new(), dims.new())
        return table[k]

    scalar = (one, one)

    def is_one(shape) -> bool:
        return dims.get(shape[0]) == 1 and dims.get(shape[1]) == 1

    def visit(node) -> tuple[int, int]:
        if isinstance(node, Number):
            return scalar
        if isinstance(node, Symbol):
            return shape_of(key(node))
        if isinstance(node, Neg):
            return visit(node.operand)
        if isinstance(node, Add | Sub):
            return elementwise(node.left, node.right, "a sum")
        if isinstance(node, Product):
            if is_scalar_expr(node.left, model):
                visit(node.left)
                return visit(node.right)
            if is_scalar_expr(node.right, model):
                visit(node.right)
                return visit(node.left)
            if node.op in ELEMENTWISE:
                return elementwise(node.left, node.right, f"an element-wise product ({node.op})")
            a, b = visit(node.left), visit(node.right)
            if is_one(a):
                return b
            if is_one(b):
                return a
            if node.op == "juxt" and _vectors(node.left, node.right, model):
                # y log ŷ of two timed vectors (in a loss): element-wise, summed by the scalar it defines
                return elementwise(node.left, node.right, "a product of two vectors")
            dims.join(a[1], b[0], "a matrix product")
            return (a[0], b[1])
        if isinstance(node, Frac):
            num = visit(node.num)
            den = visit(node.den)
            if is_one(den) or is_scalar_expr(node.den, model):
                return num
            if is_one(num):
                return den
            dims.join(num[0], den[0], "a division")
            dims.join(num[1], den[1], "a division")
            return num
        if isinstance(node, Norm):
            visit(node.operand)
            return scalar  # ‖x‖: a number whatever x's shape
        if isinstance(node, Power):
            base = visit(node.base)
            if isinstance(node.exponent, Number):
                return base
            visit(node.exponent)
            dims.join(base[0], base[1], "a matrix power")
            return base
        if isinstance(node, Transpose):
            r, c = visit(node.operand)
            return (c, r)
        if isinstance(node, Apply):
            if isinstance(node.func, Func) and node.func.name == "diag" and len(node.args) == 1:
                rows, cols = visit(node.args[0])  # diag(v): v a column, the square matrix it puts on the diagonal
                dims.join(cols, scalar[1], "diag of a column")
                return (rows, rows)
            if isinstance(node.func, Func) or node.func.name in model.functions:
                shapes = [visit(a) for a in node.args]
                return shapes[0] if shapes else scalar
            for a in node.args:
                visit(a)
            return shape_of(key(node.func))
        if isinstance(node, Sum) and labelled_by_index(node):
            body, why = unit_sum_body(node, set(model.definitions) | set(model.symbols))
            if body is None:
                raise ShapeFailure(why)
            visit(body)
            return scalar  # Σ_j e^{y_{t,j}}: the entries of exp(y_t) added up
        if isinstance(node, Sum):
            index = node.index.name if node.index is not None else None
            if index in model.units:
                # Σ_i over units: the letter is the sum's own inside it (its limits name a size, not steps)
                saved = unit_dims.pop(index, None)
                body = visit(node.body)
                unit_dims.pop(index, None)
                if saved is not None:
                    unit_dims[index] = saved
                return body
            if node.lower is not None:
                visit(node.lower)
            return visit(node.body)
        if isinstance(node, Entry) and model.units and index_letters(node):
            return entry(node)
        if isinstance(node, Entry) and len(node.indices) == 1 and isinstance(node.indices[0], Symbol):
            # softmax(z_t)_{y_t}: y_t a target class, one-hot in the shape of the vector it picks from
            picked = visit(node.operand)
            index = visit(node.indices[0])
            dims.join(picked[0], index[0], "a target class and the vector it picks from")
            dims.join(picked[1], index[1], "a target class and the vector it picks from")
            return scalar
        if isinstance(node, Concat):
            return concat(node.items, node.sep)
        if isinstance(node, Matrix):
            rows = [concat(row, "|") if len(row) > 1 else visit(row[0]) for row in node.rows]
            if len(rows) == 1:
                return rows[0]
            total = dims.new()
            for r in rows[1:]:
                dims.join(rows[0][1], r[1], "the block columns of a matrix")
            dims.sums.append((total, tuple(r[0] for r in rows)))
            return (total, rows[0][1])
        raise ShapeFailure(f"the construct {type(node).__name__} in a forward equation")

    unit_dims: dict[str, int] = {}  # unit letter → the dimension it runs over, in one equation

    def entry(node: Entry) -> tuple[int, int]:
        """s_j(t), u_{ji}, [W x]_j: each unit letter joins the dimension it indexes; the entry is a number."""
        rows, cols = visit(node.operand)
        letters = index_letters(node)
        if len(letters) == 1:
            # a vector: its units run along rows (column convention) or columns (row convention)
            along, other = (rows, cols) if convention == "column" else (cols, rows)
            dims.join(other, one, f"the units of {letters[0]}")
            positions = [along]
        elif len(letters) == 2:
            positions = [rows, cols]
        else:
            raise ShapeFailure(f"an entry with {len(letters)} indices")
        for letter, d in zip(letters, positions, strict=True):
            if letter in unit_dims:
                dims.join(unit_dims[letter], d, f"the units {letter} runs over")
            else:
                unit_dims[letter] = d
        return scalar

    def elementwise(left, right, why) -> tuple[int, int]:
        a, b = visit(left), visit(right)
        for inner, shape, other in ((left, a, b), (right, b, a)):
            if why == "a sum" and _inner_product(inner, model) and is_one(shape):
                # w_y^T h(t) + b_y: an inner product plus a bias is a number, so b_y is one too
                dims.join(other[0], one, why)
                dims.join(other[1], one, why)
                return scalar
        if why == "a sum" and all(_timed_value(n) for n in (left, right)):
            # y(t) - d(t): two values of a step added are of one size (a number only broadcasts if written)
            dims.join(a[0], b[0], why)
            dims.join(a[1], b[1], why)
            return a
        if is_one(a) or is_scalar_expr(left, model):
            return b
        if is_one(b) or is_scalar_expr(right, model):
            return a
        if batched and _untimed(left, model) != _untimed(right, model):
            # x_t W + b over a minibatch: b is one row (a column under the column convention), repeated.
            p, v = (a, b) if _untimed(left, model) else (b, a)
            axis = 0 if convention == "row" else 1
            dims.join(p[axis], one, why)
            dims.join(p[1 - axis], v[1 - axis], why)
            return v
        dims.join(a[0], b[0], why)
        dims.join(a[1], b[1], why)
        return a

    def concat(items, sep) -> tuple[int, int]:
        shapes = [visit(i) for i in items]
        vertical = sep == ";" or (sep == "," and all(dims.get(s[1]) == 1 for s in shapes))
        if sep == "," and all(dims.get(s[0]) == 1 for s in shapes) and convention == "row":
            vertical = False
        total = dims.new()
        if vertical:
            for s in shapes[1:]:
                dims.join(shapes[0][1], s[1], "the columns of a stack")
            dims.sums.append((total, tuple(s[0] for s in shapes)))
            return (total, shapes[0][1])
        for s in shapes[1:]:
            dims.join(shapes[0][0], s[0], "the rows of blocks side by side")
        dims.sums.append((total, tuple(s[1] for s in shapes)))
        return (shapes[0][0], total)

    def split(d) -> None:
        """a_t = [a_i, a_f, a_o, a_g]: the blocks share a_t's other dimension and add up to its own."""
        from .reading import split_vertical

        whole = shape_of(key(d.rhs))
        bracket = d.block[1]
        parts = [c for row in bracket.rows for c in row] if isinstance(bracket, Matrix) else list(bracket.items)
        axis = 0 if split_vertical(bracket, convention) else 1
        shapes = [shape_of(key(p)) for p in parts]
        for s in shapes:
            dims.join(s[1 - axis], whole[1 - axis], f"the blocks of {d.rhs.name}")
        dims.sums.append((whole[axis], tuple(s[axis] for s in shapes)))

    def letter_dim(node) -> int:
        """A stated size: a letter (H), a number, or a multiple of a letter (4H)."""
        if isinstance(node, Symbol) and not node.sub and not node.sup:
            if node.name not in sizes_by_letter:
                sizes_by_letter[node.name] = dims.new()
            return sizes_by_letter[node.name]
        if node is SCALAR:
            return one  # a note written unit by unit (units.py): the value is a number
        if isinstance(node, Number) and isinstance(node.value, int):
            return dims.new(None)  # numbers in shapes are checked by shape lines, not imposed
        if isinstance(node, Product) and isinstance(node.left, Number):
            base = letter_dim(node.right)
            total = dims.new()
            count = node.left.value if isinstance(node.left.value, int) else 1
            dims.sums.append((total, (base,) * max(count, 1)))
            return total
        return dims.new()

    for k, exponent in stated.items():
        shape = shape_of(k)
        if isinstance(exponent, Product) and exponent.op == "times":
            dims.join(shape[0], letter_dim(exponent.left), f"the stated shape of {k[0]}")
            dims.join(shape[1], letter_dim(exponent.right), f"the stated shape of {k[0]}")
        elif (
            convention == "row"
            and k not in model.definitions
            and model.symbols.get(k) is not None
            and model.symbols[k].time is None
        ):
            # b \in \mathbb{R}^{H} beside x_t W_x: under the row convention a vector parameter is a row.
            dims.join(shape[0], one, f"the stated shape of {k[0]}")
            dims.join(shape[1], letter_dim(exponent), f"the stated shape of {k[0]}")
        else:
            dims.join(shape[0], letter_dim(exponent), f"the stated shape of {k[0]}")
            dims.join(shape[1], one, f"the stated shape of {k[0]}")

    for d in model.definitions.values():
        lhs = shape_of(d.key)
        unit_dims.clear()
        if d.units:
            try:
                entry(Entry(d.lhs, tuple(Symbol(u) for u in d.units)))
                visit(d.rhs)  # a number: entry j of the left side, for every unit j
            except ShapeFailure as error:
                raise ShapeFailure(f"line {d.item.line}: {error}") from None
            continue
        if d.block is not None:
            if d.block[0] == 0:
                split(d)
            continue
        try:
            rhs = visit(d.rhs)
        except ShapeFailure as error:
            raise ShapeFailure(f"line {d.item.line}: {error}") from None
        if is_one(rhs) and not is_one(lhs) and is_scalar_expr(d.rhs, model):
            continue
        if d.key[0] in ("J", "L", "E", "loss", "ell"):
            continue  # a loss is a number: a vector right side is summed over its entries
        try:
            dims.join(lhs[0], rhs[0], "the two sides")
            dims.join(lhs[1], rhs[1], "the two sides")
        except ShapeFailure as error:
            raise ShapeFailure(f"line {d.item.line}: {error}") from None
    for d in model.step_definitions.values():
        try:
            rhs = visit(d.rhs)
            if not (is_one(rhs) and is_scalar_expr(d.rhs, model)):
                dims.join(shape_of(d.key)[0], rhs[0], "the two sides")
                dims.join(shape_of(d.key)[1], rhs[1], "the two sides")
        except ShapeFailure as error:
            raise ShapeFailure(f"line {d.item.line}: {error}") from None
    for _, formula in model.step_formulas.values():
        try:
            visit(formula)
        except ShapeFailure as error:
            raise ShapeFailure(f"the formula of one step's loss: {error}") from None
    for k in list(model.symbols):
        shape_of(k)
    return dims, table
