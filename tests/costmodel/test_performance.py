"""The performance model follows scikit-learn's estimator contract: parameters in __init__, fit returns self,
learned state ends in `_`, predict checks it was fitted, clone and group splits work; its state round-trips."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from sklearn.utils.validation import check_is_fitted

from hwplan.costmodel.performance import NotFittedError, PerformanceModel

SMALL = ["nvidia-h100-sxm", "nvidia-l4", "nvidia-a100-sxm-80gb", "nvidia-t4"]


@pytest.fixture(scope="module")
def rows(measurements):
    """Published resnet50 / bert-large rows of four GPUs: small enough to fit many times."""
    m = measurements
    return m[m["device"].isin(SMALL) & m["workload"].isin(["resnet50", "bert-large"])].reset_index(drop=True)


def test_init_only_stores_parameters_and_fit_returns_self(rows):
    model = PerformanceModel(alpha=2.0)
    assert model.get_params()["alpha"] == 2.0 and not hasattr(model, "eta_")
    assert model.fit(rows) is model
    check_is_fitted(model)  # scikit-learn's own check finds the learned attributes
    assert {"eta_", "basis_", "interval_", "devices_", "power_"} <= set(vars(model))


def test_predict_before_fit_says_to_fit(rows):
    with pytest.raises(NotFittedError, match="call fit"):
        PerformanceModel().predict(rows)
    with pytest.raises(ValueError):  # scikit-learn's NotFittedError is a ValueError too
        PerformanceModel().evaluate(0, 0, 0, 0, 1, 0)


def test_clone_gives_the_same_fit(rows, model):
    a = PerformanceModel(alpha=0.5).fit(rows)
    b = clone(a)
    assert b.get_params() == a.get_params() and not hasattr(b, "eta_")
    b.fit(rows)
    np.testing.assert_array_equal(np.asarray(a.eta_), np.asarray(b.eta_))
    np.testing.assert_array_equal(a.predict(rows), b.predict(rows))


def test_hyperparameters_change_the_fit(rows):
    loose = PerformanceModel(alpha=0.01).fit(rows)
    tight = PerformanceModel(alpha=100.0).fit(rows)
    assert np.abs(np.asarray(tight.eta_)).max() < np.abs(np.asarray(loose.eta_)).max()
    with pytest.raises(ValueError, match="invalid parameter"):
        PerformanceModel().set_params(alhpa=1)


def test_leave_one_device_out_with_scikit_learn(rows):
    scores = cross_val_score(PerformanceModel(), rows, groups=rows["device"], cv=LeaveOneGroupOut())
    assert len(scores) == rows["device"].nunique() and np.all(np.isfinite(scores))
    assert np.all(scores <= 0)  # minus the median absolute percentage error


def test_predict_is_in_each_rows_unit_and_nan_where_it_cannot_place(rows, model):
    pred = model.predict(rows)
    assert np.all(np.isfinite(pred)) and np.all(pred > 0)
    ape = np.abs(pred / rows["throughput"].astype(float).to_numpy() - 1)
    assert np.median(ape) < 0.5
    odd = rows.head(2).assign(device=["no-such-device", rows["device"].iloc[1]])
    assert np.isnan(model.predict(odd)[0]) and np.isfinite(model.predict(odd)[1])


def test_state_round_trips_through_json(model, tmp_path):
    model.save(tmp_path / "m.json")
    back = PerformanceModel.load(tmp_path / "m.json")
    args = (np.arange(len(back.workloads_))[:, None], np.arange(len(back.devices_))[None, :], 2, 0, 8, 0)
    e1, e2 = model.evaluate(*args), back.evaluate(*args)
    for f in dataclasses.fields(e1):
        np.testing.assert_array_equal(getattr(e1, f.name), getattr(e2, f.name), err_msg=f.name)


def test_fit_without_rows_is_the_spec_roofline_with_priors():
    m = PerformanceModel().fit(pd.DataFrame())
    assert np.all(np.asarray(m.basis_) == 2) and m.meta_.get("rows_used", 0) == 0
