"""The CLI's output layer: a missing cell (None, NaN, pd.NA, NaT) prints as the missing marker, never a crash."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from hwplan.app.cli import output
from hwplan.core.fmt import MISSING

MISSING_VALUES = st.sampled_from([None, float("nan"), np.nan, np.float64("nan"), np.float32("nan"), pd.NA, pd.NaT,
                                  np.datetime64("NaT")])


@given(MISSING_VALUES)
def test_missing_values_print_as_the_missing_marker(x):
    assert output.text(x) == MISSING


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.booleans()))
def test_present_values_print_as_themselves(x):
    assert output.text(x) == str(x)


@given(st.lists(st.one_of(MISSING_VALUES, st.text("abc xyz", max_size=8), st.floats(allow_nan=False, allow_infinity=False)),
                min_size=1, max_size=6))
def test_a_table_with_missing_cells_prints_the_marker(values):
    frame = pd.DataFrame({"v": pd.array(values, dtype=object), "s": pd.array([None] * len(values), dtype="string")})
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        output.table(frame.to_dict("records"), [("v", "v", output.text), ("s", "s", output.text)])
    rows = buf.getvalue().splitlines()[-len(values):]
    assert all(line.rstrip().endswith(MISSING) for line in rows)  # column s is missing (pd.NA) on every row
    assert not any(word in ("nan", "<NA>", "NaT", "None") for line in rows for word in line.split())
