"""`hwplan validate`'s training splits: the training model refitted without the held-out rows, on the
published training results (data/published_training.csv).

- systems held out: the systems (an MLPerf submission, or a vendor table's software release on one device) fall
  into TRAIN_FOLDS groups by a hash of their name; each group is predicted by a fit on all the others;
- 8 -> N: a fit on the rows of 8 devices or fewer predicts every larger setup (how scaling extrapolates).
MLPerf rows are compared on time to train, twice: with the samples the run processed (the model's speed), and with
the samples the benchmark's reference convergence points give for the run's global batch (what a user is told:
speed and convergence together); vendor rows on throughput at their stated layout. `spec` is the same step model at
the prior efficiencies (nothing fitted).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from hwplan.costmodel.trainfit import fit_training, predict_rows, published_training

TRAIN_FOLDS = 8
SPLITS = ("training: systems held out", "training: 8 -> N devices")


def _fold(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % TRAIN_FOLDS


def reference_volume(rows: pd.DataFrame) -> pd.DataFrame:
    """MLPerf rows of reference workloads with train_samples replaced by the RCP samples at their global batch."""
    from hwplan.costmodel.trainrun import Volume, reference_runs

    runs = reference_runs()
    out = rows[(rows["source_kind"] == "mlperf") & rows["workload"].isin(set(runs["workload"]))].copy()
    for wl, g in runs.groupby("workload"):
        g = g.sort_values("global_batch_size")
        vol = Volume(units=None, gbs=(), by_batch=tuple(zip(g["global_batch_size"].astype(float),
                                                             g["converge_samples"].astype(float))))
        mine = out["workload"] == wl
        out.loc[mine, "train_samples"] = vol.units_at(out.loc[mine, "global_batch"].astype(float), 1.0)
    return out


def _frame(split: str, model, state, test: pd.DataFrame, label: str = "") -> pd.DataFrame:
    out = predict_rows(model, state, test)
    spec = predict_rows(model, state, test, prior=True)
    kind = np.where(out["is_time"], "time to train" + label, "throughput")
    out["split"] = [f"{split} ({k})" for k in kind]
    out["spec"] = spec["pred"]
    out["predicted"] = out["fits"] & np.isfinite(out["pred"]) & (out["pred"] > 0)
    out["ape"] = np.abs(out["pred"] / out["actual"] - 1)
    out["spec_ape"] = np.abs(out["spec"] / out["actual"] - 1)
    out["covered"] = (out["actual"] >= out["low"]) & (out["actual"] <= out["high"])
    out["size"] = np.where(out["device_count"] >= 64, ">= 64 devices", "< 64 devices")
    return out


def training_held_out(model, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Held-out predictions of both training splits (one row per published training row and split)."""
    rows = published_training() if rows is None else rows
    if not len(rows):
        return pd.DataFrame()
    folds = rows["system_key"].astype(str).map(_fold)
    res = []
    for k in range(TRAIN_FOLDS):
        hold = folds == k
        if hold.any():
            state = fit_training(model, rows[~hold])
            res.append(_frame(SPLITS[0], model, state, rows[hold]))
            ref = reference_volume(rows[hold])
            if len(ref):
                res.append(_frame(SPLITS[0], model, state, ref, label=", reference volume"))
    small = rows["device_count"].astype(float) <= 8
    if small.any() and (~small).any():
        state = fit_training(model, rows[small])
        res.append(_frame(SPLITS[1], model, state, rows[~small]))
    return pd.concat(res, ignore_index=True)
