"""indexer.bm25_formulas: the BM25 formulas alone, without an index (the differential
tests in test_lexical.py hold whole scores to bm25s and rank-bm25)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.bm25_formulas import METHODS, check_method, idf, length_norm, tf_part

K1 = st.floats(0.1, 3.0)
B = st.floats(0.0, 1.0)


@given(st.sampled_from(METHODS), st.integers(1, 10_000), st.integers(0, 10_000))
def test_idf_falls_as_a_term_grows_common(method, n, extra):
    df = 1 + extra % n
    assert idf(method, df, n) >= idf(method, n, n)
    assert math.isfinite(idf(method, df, n))


@given(st.sampled_from(METHODS), K1, st.floats(0.25, 4.0), st.integers(1, 50))
def test_tf_part_grows_with_tf_and_saturates(method, k1, norm, tf):
    low, high = tf_part(method, float(tf), norm, k1, 0.5), tf_part(method, tf + 1.0, norm, k1, 0.5)
    assert high >= low
    assert tf_part(method, 1e9, norm, k1, 0.5) <= k1 + 1 + 0.5 + 1e-9


@given(B, st.floats(1.0, 500.0))
def test_a_passage_of_average_length_is_not_normalised(b, avg):
    assert length_norm(np.array([avg]), avg, b)[0] == pytest.approx(1.0)
    assert length_norm(np.array([avg]), 0.0, b)[0] == pytest.approx(1 - b + b * avg)


def test_lucene_idf_never_negative_and_unknown_methods_are_named():
    assert idf("lucene", 10, 10) > 0
    assert idf("robertson", 10, 10) == 0.0
    with pytest.raises(ValueError, match="method='bm26'"):
        check_method("bm26")
