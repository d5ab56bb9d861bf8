"""Printers of IR expressions and derivations: LaTeX, plain text, Markdown."""
