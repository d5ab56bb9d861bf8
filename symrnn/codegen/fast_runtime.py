"""Helpers the optimised generated code calls, as source text appended to the module.

The helpers themselves are real Python in :mod:`symrnn.codegen.runtime.numpy_fast`; this name
keeps working for code that imports it.
"""

from symrnn.codegen.runtime import source_text

FAST_HELPERS = source_text("numpy_fast") + "\n"
