"""Arithmetic.close is relative to the entries' size (a survivor of benchmarks/mutation.py).

The mutant ``rtol * scale -> rtol / scale`` survived: every other test compares values near 1,
where multiplying and dividing by the scale agree.  Here the entries are 10⁶ and 10⁻⁶.
"""

import numpy as np

from symrnn.evaluate import FLOAT64


def test_close_scales_the_tolerance_with_large_entries():
    a = np.full((2, 3), 1.0e6)
    assert FLOAT64.close(a, a * (1 + 1e-9))[0]  # 10⁻³ apart: within 10⁻⁷ of 10⁶
    assert not FLOAT64.close(a, a * (1 + 1e-6))[0]
    equal, rel = FLOAT64.close(a, a + 1.0)
    assert not equal and np.isclose(rel, 1e-6, rtol=1e-6)


def test_close_has_an_absolute_floor_of_a_thousandth_for_tiny_entries():
    tiny = np.full(4, 1e-6)
    assert FLOAT64.close(tiny, tiny + 1e-11)[0]  # 10⁻¹¹ ≤ 10⁻⁷ · 10⁻³
    equal, rel = FLOAT64.close(tiny, tiny + 1e-9)
    assert not equal and np.isclose(rel, 1e-6, rtol=1e-6)
