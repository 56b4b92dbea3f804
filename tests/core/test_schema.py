"""The Measurement contract: valid rows pass, every bad cell is reported with row and column."""

from hypothesis import given, settings
from hypothesis import strategies as st

from hwplan.core.schema import COLUMN_NAMES, COLUMNS_BY_NAME, validate_measurements
from tests.conftest import make_rows


def test_valid_rows_pass_and_are_typed():
    clean, problems = validate_measurements(make_rows(3), "ok.csv")
    assert problems == []
    assert list(clean.columns) == list(COLUMN_NAMES)
    assert clean["batch_size"].tolist() == [1, 2, 4]
    assert clean["throughput"].iloc[0] == 1000.5
    assert clean["measured_at"].iloc[0].startswith("2026-11-29T04:00:00")


def test_every_problem_reported_at_once_with_row_and_column():
    df = make_rows(3)
    df.loc[0, "throughput"] = "fast"
    df.loc[1, "precision"] = "fp64"
    df.loc[2, "batch_size"] = "0"
    df.loc[2, "measured_at"] = "yesterday"
    _, problems = validate_measurements(df, "bad.csv", row_numbers=[2, 3, 4])
    text = [str(p) for p in problems]
    assert "bad.csv:2: throughput: 'fast' is not a finite number (expected a number > 0)" in text
    assert any(t.startswith("bad.csv:3: precision: 'fp64' is not allowed (expected one of fp32") for t in text)
    assert any(t.startswith("bad.csv:4: batch_size: 0 is out of range") for t in text)
    assert any(t.startswith("bad.csv:4: measured_at: 'yesterday' is not a valid time") for t in text)


def test_cross_column_rules():
    df = make_rows(4)
    df.loc[0, "status"] = "failed"  # failed without a reason
    df.loc[1, "latency_p99_s"] = "0.001"  # p99 below p50
    df.loc[2, "source"] = "published"
    df.loc[2, "source_ref"] = ""  # published must cite
    df.loc[3, "power_avg_w"] = ""
    df.loc[3, "energy_per_unit_j"] = ""  # claims nvml without a reading
    _, problems = validate_measurements(df, "x.csv")
    cols = {(p.row, p.column) for p in problems}
    assert {(1, "error"), (2, "latency_p99_s"), (3, "source_ref"), (4, "energy_method")} <= cols


def test_unknown_ids_name_the_closest():
    df = make_rows(1, workload="resnet", device="h100-sxm")
    _, problems = validate_measurements(df, "x.csv", known_workloads={"resnet50", "bert-large"},
                                        known_devices={"nvidia-h100-sxm", "nvidia-h100-pcie"})
    msgs = " ".join(str(p) for p in problems)
    assert "did you mean 'resnet50'" in msgs
    assert "'nvidia-h100-sxm'" in msgs


def test_unknown_and_missing_columns():
    df = make_rows(1).drop(columns=["precision"]).assign(throughpt="1")
    _, problems = validate_measurements(df, "x.csv")
    msgs = [str(p) for p in problems]
    assert any("precision: required column is missing" in m for m in msgs)
    assert any("throughpt: unknown column; did you mean 'throughput'?" in m for m in msgs)


cell = st.one_of(st.text(max_size=12), st.sampled_from(["", "nan", "inf", "-1", "1e400", "0", "2026-13-45", " ok "]),
                 st.floats(allow_nan=True, allow_infinity=True).map(str), st.integers().map(str))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_corruption_is_reported_never_raised(data):
    df = make_rows(3)
    col = data.draw(st.sampled_from(list(df.columns)))
    row = data.draw(st.integers(0, 2))
    value = data.draw(cell)
    df.loc[row, col] = value
    clean, problems = validate_measurements(df, "h.csv")
    for p in problems:
        assert p.column in COLUMNS_BY_NAME or p.column in df.columns
        assert 0 <= p.row <= 3
    if not problems:  # if it passed, the stored row must be a faithful, typed version of it
        assert len(clean) == 3
        assert clean["status"].isin(["ok", "failed", "skipped"]).all()


# ---- how problems read: by row, the whole file's first and called "file", no echo of another cell's fault ----
DEFECTS = {  # a cell made bad, and the columns that may be reported for it
    "batch_text": ({"batch_size": "abc"}, {"batch_size"}),
    "batch_zero": ({"batch_size": "0"}, {"batch_size"}),
    "precision": ({"precision": "fp64"}, {"precision"}),
    "time": ({"measured_at": "yesterday"}, {"measured_at"}),
    "source": ({"source": "publishd"}, {"source"}),
    "throughput": ({"throughput": "fast"}, {"throughput"}),
    "published_no_batch": ({"source": "published", "source_ref": "mlperf", "batch_size": ""}, set()),
    "published_blank_batch": ({"source": " Published ", "source_ref": "mlperf", "batch_size": "  "}, set()),
    "upload_no_batch": ({"batch_size": ""}, {"batch_size"}),
    "fine": ({}, set()),
}


@settings(max_examples=60, deadline=None)
@given(defects=st.lists(st.sampled_from(sorted(DEFECTS)), min_size=1, max_size=8),
       extra_column=st.booleans())
def test_problems_come_by_row_and_each_only_for_its_own_cell(defects, extra_column):
    import pandas as pd

    df = make_rows(len(defects))
    for i, name in enumerate(defects):
        for col, value in DEFECTS[name][0].items():
            df.loc[i, col] = value
    if extra_column:
        df["bogus_col"] = ""
    lines = [i + 2 for i in range(len(df))]
    _, problems = validate_measurements(pd.DataFrame(df), "in.csv", row_numbers=lines)
    rows = [p.row for p in problems]
    assert rows == sorted(rows)
    text = [str(p) for p in problems]
    assert not any(t.startswith("in.csv:0:") for t in text)
    if extra_column:
        assert text[0].startswith("in.csv:file: bogus_col: unknown column")
    for i, name in enumerate(defects):
        reported = {p.column for p in problems if p.row == lines[i]}
        assert reported == DEFECTS[name][1], (name, [t for t in text if t.startswith(f"in.csv:{lines[i]}:")])


def test_a_whole_file_problem_says_file():
    from hwplan.core.errors import Problem

    assert str(Problem("x.csv", 0, "file", "is empty", "a header row")) == "x.csv:file: is empty (expected a header row)"
    assert str(Problem("x.csv", 0, "precision", "required column is missing")) == \
        "x.csv:file: precision: required column is missing"
    assert str(Problem("x.csv", 7, "precision", "is empty")) == "x.csv:7: precision: is empty"
