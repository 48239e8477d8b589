"""Per-feature / per-channel statistics of live batches (preflight.stats.channels): the layout a batch
is read in, and moments merged batch by batch equal to those of the whole."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.stats import channels


@pytest.mark.parametrize("shape,integer,tokens,layout", [
    ((32, 8), False, False, "features"),
    ((32, 3, 28, 28), False, False, "nchw"),
    ((32, 28, 28, 3), False, False, "nhwc"),
    ((32, 3, 3, 3), False, False, "nchw"),  # ambiguous: channels-first, as torchvision
    ((32, 28, 28), False, False, "grey"),
    ((32, 50, 6), False, False, "sequence"),
    ((32, 50), True, True, "tokens"),
    ((32, 2, 8, 8, 8), False, False, "volume"),
])
def test_detect_layout(shape, integer, tokens, layout):
    assert channels.detect_layout(shape, integer, tokens) == layout


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.sampled_from(["nchw", "nhwc", "sequence", "features"]), st.integers(0, 2**31 - 1))
def test_merged_batches_equal_the_whole(n_batches, layout, seed):
    rng = np.random.default_rng(seed)
    shape = {"nchw": (3, 5, 6), "nhwc": (5, 6, 3), "sequence": (7, 4), "features": (5,)}[layout]
    sizes = rng.integers(1, 9, size=n_batches)
    xs = [(rng.normal(size=(int(k), *shape)) * rng.uniform(0.1, 100) + rng.uniform(-50, 50)).astype(np.float64)
          for k in sizes]
    acc = channels.start(xs[0])
    assert acc.layout == layout
    for x in xs:
        acc.add(x)
    whole = np.concatenate(xs)
    axis = 1 if layout == "nchw" else -1
    per = np.moveaxis(whole, axis, -1).reshape(-1, whole.shape[axis])
    mean, std = acc.mean_std()
    assert np.allclose(mean, per.mean(axis=0), rtol=1e-9, atol=1e-9)
    assert np.allclose(std, per.std(axis=0), rtol=1e-7, atol=1e-9)
    assert acc.rows == len(whole) and acc.mismatched == 0


def test_a_batch_of_another_shape_is_counted_not_merged():
    acc = channels.start(np.zeros((4, 3, 8, 8)))
    acc.add(np.ones((4, 3, 8, 8)))
    acc.add(np.ones((4, 1, 8, 8)))
    assert acc.mismatched == 1 and acc.rows == 4
