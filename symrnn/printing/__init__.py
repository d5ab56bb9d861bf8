"""Printers of IR expressions and derivations: LaTeX, plain text, Markdown.

Importing the package registers the text and LaTeX printers with the IR, so ``repr(node)`` and
Jupyter show formulas; the IR sits below the printers and never imports them.
"""

from symrnn import ir
from symrnn.printing.latex import latex
from symrnn.printing.text import text

ir.register_printers(text=text, latex=latex)
