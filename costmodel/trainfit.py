"""Training efficiencies, fitted on published training results (data/published_training.csv) and the profiler's
training-step rows.

The step model (hwplan.costmodel.training) at efficiency 1 is corrected by
  compute efficiency  e_c = sigmoid(a_c + class + kind + vendor (per kind) + device + precision class)
  memory efficiency   e_m = sigmoid(a_m + class_m + device)
  communication       e_x = sigmoid(a_x + kind_x)
  overhead multiplier o   = exp(o_kind)
and, for a benchmark's reference runs (MLPerf time to train), the time a run spends outside steps: a share
f_b of the step time and a fixed s_b seconds per benchmark (evaluations, start-up after run_start).
Each parameter has a prior mean and scale (a ridge in log / logit space), so a device never measured keeps
its kind's and vendor's effects. Rows are published vendor throughput (tokens/s or samples/s at a stated
layout) and MLPerf Training results (minutes to the quality target, with the samples the run processed).
Layouts a row does not state are searched with the current efficiencies; the fit alternates layout
search and least squares (soft-L1 on the log ratio) a few times.

Intervals: log-residual quantiles of the fit per basis (`measured`: rows of this workload on this device;
`calibrated`: the device or the workload has training rows; `roofline`: neither), widened for bases whose
rows are further from the data. `hwplan validate` checks them on held-out systems.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hwplan.core.vocab import BASES, DEVICE_KINDS, PRECISIONS
from hwplan.costmodel import training as tr
from hwplan.costmodel import trainrun
from hwplan.costmodel.trainrun import PRIOR_EC, PRIOR_EM, PRIOR_EX
from hwplan.costmodel.work import TRAIN_CLASSES

PREC_CLASS = {"fp32": 0, "tf32": 0, "bf16": 1, "fp16": 1, "fp8": 2}
F_SCALE = 0.2
# Prior of a benchmark run's fixed time outside steps (s). MLPerf's largest runs take 7-11 s in all (BERT on 3,472
# H100: 7.2 s; ResNet-50 on 3,584 H100: 11 s), so the fixed part is seconds; evaluations, which run on every
# device, are the share run_f of the step time. (A 60 s prior was not identifiable from small systems alone: the
# 8 -> N split extrapolated it to the largest runs.)
RUN_S_PRIOR = 3.0
OUTER = 3          # layout search / least squares alternations
DEFAULT_Q = {"measured": [-0.25, 0.25], "calibrated": [-0.45, 0.45], "roofline": [-0.8, 0.8]}
Z80 = 1.2816       # standard normal 90th percentile: an 80% two-sided interval


def published_training() -> pd.DataFrame:
    """The shipped published training rows (data/published_training.csv; built by scripts/build_published.py)."""
    from hwplan.core import paths

    path = paths.PUBLISHED_TRAINING_CSV
    return pd.read_csv(path) if path.exists() else pd.DataFrame()


# the profiler's and uploads' training-step rows join the fit for workloads whose profiled shape is the benchmark's
# (ResNet-50 at 224x224; the profiler's BERT runs 384 tokens, not the 512 of pre-training, and its LLMs k layers)
STORE_TRAINING_WORKLOADS = ("resnet50",)


def store_training_rows(meas: pd.DataFrame | None, devices: list[str]) -> pd.DataFrame:
    """Measured training steps from the store (profiler, uploads) as training-fit rows: one device group training
    its own batch (data parallel over device_count), throughput in samples/s."""
    if meas is None or not len(meas) or "mode" not in meas:
        return pd.DataFrame()
    m = meas[(meas["mode"].astype(str) == "training") & meas["source"].astype(str).isin(["profiler", "upload"])
             & (meas["status"].astype(str) == "ok") & meas["workload"].astype(str).isin(STORE_TRAINING_WORKLOADS)
             & meas["device"].astype(str).isin(devices)]
    m = m[pd.to_numeric(m["throughput"], errors="coerce").gt(0) & pd.to_numeric(m["batch_size"], errors="coerce").gt(0)]
    if not len(m):
        return pd.DataFrame()
    n = pd.to_numeric(m["device_count"], errors="coerce").fillna(1.0)
    b = pd.to_numeric(m["batch_size"], errors="coerce")
    return pd.DataFrame({
        "source_kind": m["source"].astype(str).to_numpy(), "source_table": m["source"].astype(str).to_numpy(),
        "software": m.get("software", ""), "system_key": (m["source"].astype(str) + "|" + m["host"].astype(str) + "|"
                                                         + m["device"].astype(str)).to_numpy(),
        "workload": m["workload"].astype(str).to_numpy(), "task": "pretrain", "device": m["device"].astype(str).to_numpy(),
        "device_count": n.to_numpy(), "precision": m["precision"].astype(str).to_numpy(),
        "global_batch": (b * n).to_numpy(), "mb": b.to_numpy(), "tp": 1.0, "pp": 1.0, "dp": n.to_numpy(),
        "throughput": pd.to_numeric(m["throughput"], errors="coerce").to_numpy(), "throughput_unit": "samples/s",
        "time_to_train_s": np.nan, "train_samples": np.nan, "seq_len": np.nan})


def _logit(p):
    return float(np.log(p / (1 - p)))


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


class Design:
    """Parameter blocks: (name, size, prior mean, prior scale)."""

    def __init__(self, dev: dict, workloads: list[str], n_src: int = 1):
        self.n_dev = len(dev["kind"])
        self.kinds = [DEVICE_KINDS.index(k) for k in dev["kind"]]
        # a vendor's effect is per device kind: AMD's CPUs say nothing about AMD's GPUs
        keys = [f"{v}|{k}" for v, k in zip(dev["vendor"], dev["kind"])]
        vendors = sorted(set(keys))
        self.vendor = [vendors.index(v) for v in keys]
        self.workloads = workloads
        self.blocks: list[tuple[str, int, float, float]] = [
            ("a_c", 1, _logit(PRIOR_EC), 1.0), ("cls_c", len(TRAIN_CLASSES), 0.0, 1.0),
            ("kind_c", len(DEVICE_KINDS), 0.0, 0.7), ("vendor_c", len(vendors), 0.0, 0.5),
            ("dev_c", self.n_dev, 0.0, 0.4), ("prec_c", 3, 0.0, 0.5),
            ("a_m", 1, _logit(PRIOR_EM), 1.0), ("cls_m", len(TRAIN_CLASSES), 0.0, 1.0),
            ("a_x", 1, _logit(PRIOR_EX), 1.0), ("kind_x", len(DEVICE_KINDS), 0.0, 0.7),
            ("o_kind", len(DEVICE_KINDS), 0.0, 1.0), ("src_c", n_src, 0.0, 0.5),
            ("run_f", len(workloads), np.log(0.05), 1.5), ("run_s", len(workloads), np.log(RUN_S_PRIOR), 1.5),
        ]
        self.offset: dict[str, int] = {}
        o = 0
        for name, size, _, _ in self.blocks:
            self.offset[name] = o
            o += size
        self.size = o
        self.mean = np.concatenate([np.full(s, m) for _, s, m, _ in self.blocks])
        self.scale = np.concatenate([np.full(s, sc) for _, s, _, sc in self.blocks])
        # precision class 1 (16-bit) is the reference: its offset is pinned near 0 by a tight prior
        self.scale[self.offset["prec_c"] + 1] = 0.01
        # software family 0 (MLPerf submissions) is the reference the predictions are for
        self.scale[self.offset["src_c"]] = 0.01

    def get(self, th, name):
        o = self.offset[name]
        return th[o:o + {n: s for n, s, _, _ in self.blocks}[name]]

    def effs(self, th, cls, d, pc, src=None):
        """(e_c, e_m, e_x, overhead multiplier) for rows or tables (index arrays broadcast). src: the rows' software
        family (fit only; predictions are for the tuned stacks MLPerf runs, family 0)."""
        k = np.asarray(self.kinds)[d]
        v = np.asarray(self.vendor)[d]
        g = lambda n: self.get(th, n)
        zc = g("a_c")[0] + g("cls_c")[cls] + g("kind_c")[k] + g("vendor_c")[v] + g("dev_c")[d] + g("prec_c")[pc]
        if src is not None:
            zc = zc + g("src_c")[src]
        zm = g("a_m")[0] + g("cls_m")[cls] + g("dev_c")[d]
        zx = g("a_x")[0] + g("kind_x")[k]
        return _sig(zc), _sig(zm), _sig(zx), np.exp(g("o_kind")[k])


def row_nets(A: dict, rows: pd.DataFrame, wl_index: dict) -> tuple[tr.Net, np.ndarray]:
    """What each row trained: the reference workload's facts, or the row's own architecture columns."""
    n = len(rows)
    w = np.array([wl_index.get(x, -1) for x in rows["workload"].fillna("")], dtype=int)
    known = w >= 0
    wk = np.where(known, w, 0)
    seq = rows["seq_len"].astype(float).to_numpy()
    lora = (rows["task"].fillna("") == "lora").to_numpy().astype(float)
    base = trainrun.net_of(A, wk, np.where(np.isfinite(seq), seq, np.asarray(A["wl_train_seq"])[wk]), lora)
    col = lambda c: pd.to_numeric(rows.get(c, pd.Series(np.nan, index=rows.index)), errors="coerce").to_numpy(float)
    P, act = col("params"), col("active_params")
    heads, hd, d_model = col("n_heads"), col("head_dim"), col("d_model")
    hd = np.where(np.isfinite(hd), hd, d_model / np.where(heads > 0, heads, np.nan))
    own = lambda known_v, mine: np.where(known, known_v, np.nan_to_num(mine))
    net = tr.Net(params=own(base.params, P), active=own(base.active, np.where(np.isfinite(act), act, P)),
                 layers=own(base.layers, col("layers")), d_model=own(base.d_model, d_model),
                 attn_dim=own(base.attn_dim, heads * hd), n_heads=own(base.n_heads, heads), seq=base.seq,
                 vocab=own(base.vocab, col("vocab")), n_experts=own(base.n_experts, col("n_experts")),
                 top_k=own(base.top_k, np.where(np.isfinite(col("experts_per_token")), col("experts_per_token"), 2.0)),
                 is_llm=own(base.is_llm, np.ones(n)), flops_fwd=own(base.flops_fwd, np.zeros(n)),
                 act_bytes=own(base.act_bytes, np.zeros(n)), lora=lora)
    cls = np.where(known, np.asarray(A["wl_train_class"], dtype=int)[wk],
                   np.where(net.n_experts > 0, TRAIN_CLASSES.index("moe"), TRAIN_CLASSES.index("llm")))
    return net, cls.astype(int)


class Rows:
    """The fit's rows as arrays: setup, what was trained, what was observed."""

    def __init__(self, model, rows: pd.DataFrame):
        A = model.arrays_
        idx = A["dev_index"]
        ok = rows["device"].isin(list(idx)) & rows["precision"].isin(list(PREC_CLASS))
        r = rows[ok].reset_index(drop=True)
        self.frame = r
        self.d = np.array([idx[x] for x in r["device"]], dtype=int)
        self.p = np.array([PRECISIONS.index(x) for x in r["precision"]], dtype=int)
        self.pc = np.array([PREC_CLASS[x] for x in r["precision"]], dtype=int)
        self.n = r["device_count"].astype(float).to_numpy()
        self.gb = r["global_batch"].astype(float).to_numpy()
        self.net, self.cls = row_nets(A, r, model.arrays_["wl_index"])
        self.w = np.array([A["wl_index"].get(x, -1) for x in r["workload"].fillna("")], dtype=int)
        self.mlperf = r["time_to_train_s"].notna().to_numpy()
        self.obs = np.where(self.mlperf, r["time_to_train_s"].astype(float), r["throughput"].astype(float))
        self.samples = r["train_samples"].astype(float).to_numpy()
        self.units = np.where(self.net.is_llm > 0, self.samples * self.net.seq, self.samples)
        self.fixed = {k: r[k].astype(float).to_numpy() for k in ("tp", "pp", "dp", "mb", "vp", "zero", "recompute")
                      if k in r}
        self.system = r["system_key"].astype(str).to_numpy()
        # software family: MLPerf submissions are family 0 (the reference: tuned stacks); each vendor table's
        # framework (text before " (" or " /") its own, so an old or untuned stack does not bias the device effects
        fam = np.where(r["source_kind"] == "mlperf", "",
                       r["source_table"].astype(str).str.split(r" \(| /", regex=True).str[0])
        self.families = [""] + sorted({f for f in fam if f})
        self.src = np.array([self.families.index(f) for f in fam], dtype=int)
        self.A = A


def _parts(data: Rows, eff) -> tuple[tr.StepParts, np.ndarray, trainrun.Chosen]:
    A = data.A
    w0 = np.where(data.w >= 0, data.w, 0)
    c = trainrun.search(A, w0, data.d, data.p, data.n, data.gb, data.net.seq, data.net.lora, eff=eff,
                        fixed=data.fixed, net=data.net)
    lay = tr.Layout(dp=c.dp, tp=c.tp, pp=c.pp, ep=c.ep, mb=c.mb, vp=c.vp, zero=c.zero, recompute=c.recompute)
    hw = trainrun.hardware_of(A, data.d, data.p)
    return tr.step_parts(data.net, hw, lay, data.gb), data.n * hw.peak, c


def _predict(design: Design, th, data: Rows, parts, peak_total):
    ec, em, ex, om = design.effs(th, data.cls, data.d, data.pc, data.src)
    st = tr.combine(parts, peak_total, ec, em, ex, om)
    w0 = np.where(data.w >= 0, data.w, 0)
    f = np.exp(design.get(th, "run_f"))[w0]
    s = np.exp(design.get(th, "run_s"))[w0]
    t_run = data.units / st.throughput * (1 + f) + s
    return np.where(data.mlperf, t_run, st.throughput)


def _residuals(design, th, data, parts, peak_total, fit_mask):
    pred = _predict(design, th, data, parts, peak_total)
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.log(pred / data.obs)
    # time rows: predicted / observed time; throughput rows: observed / predicted rate (both "too slow" > 0)
    lr = np.where(data.mlperf, lr, -lr)
    return np.where(fit_mask & np.isfinite(lr), lr, 0.0)


def fit_training(model, rows: pd.DataFrame) -> dict[str, Any]:
    """The fitted training state (JSON-able) from published training rows (published_training.csv schema)."""
    from scipy.optimize import least_squares

    if rows is None or not len(rows):
        design = Design(model.dev_, list(model.workloads_))
        return _state(model, design, design.mean.copy(), None, np.zeros(0), {})
    data = Rows(model, rows)
    design = Design(model.dev_, list(model.workloads_), len(data.families))
    th = design.mean.copy()
    fits = np.ones(len(data.d), dtype=bool)
    for _ in range(OUTER):
        eff = design.effs(th, data.cls, data.d, data.pc, data.src)
        parts, peak_total, chosen = _parts(data, eff)
        fits = chosen.fits.astype(bool)

        def fun(t, parts=parts, peak_total=peak_total, fits=fits):
            return np.concatenate([_residuals(design, t, data, parts, peak_total, fits),
                                   (t - design.mean) / design.scale * 0.3])

        sol = least_squares(fun, th, loss="soft_l1", f_scale=F_SCALE, max_nfev=60, method="trf")
        th = sol.x
    res = _residuals(design, th, data, parts, peak_total, fits)
    return _state(model, design, th, data, res, {"rows": int(fits.sum()), "rows_left_out": int((~fits).sum())})


def _state(model, design: Design, th, data: Rows | None, res, meta) -> dict[str, Any]:
    nW, nD, nP = len(model.workloads_), design.n_dev, len(PRECISIONS)
    cls = np.arange(len(TRAIN_CLASSES))[:, None, None]
    d = np.arange(nD)[None, :, None]
    pc = np.array([PREC_CLASS.get(p, 1) for p in PRECISIONS])[None, None, :]
    ec, em, ex, om = design.effs(th, cls, d, pc)
    em = np.broadcast_to(em, (len(TRAIN_CLASSES), nD, nP))[:, :, 0]
    ex = np.broadcast_to(ex, (1, nD, 1))[0, :, 0]
    om = np.broadcast_to(om, (1, nD, 1))[0, :, 0]
    # basis per workload x device: rows of the workload on the device / the device or the workload seen / neither
    basis = np.full((nW, nD), BASES.index("roofline"), dtype=int)
    q = {k: list(v) for k, v in DEFAULT_Q.items()}
    if data is not None and len(data.d):
        seen_dev = np.zeros(nD, dtype=bool)
        seen_dev[data.d] = True
        seen_wl = np.zeros(nW, dtype=bool)
        seen_wl[data.w[data.w >= 0]] = True
        basis[:, seen_dev] = BASES.index("calibrated")
        basis[seen_wl, :] = BASES.index("calibrated")
        for w_, d_ in zip(data.w, data.d):
            if w_ >= 0:
                basis[w_, d_] = BASES.index("measured")
        good = res[res != 0]
        if len(good) >= 20:
            lo, hi = np.quantile(good, [0.1, 0.9])
            # residuals are "observed slower than predicted" > 0: the interval on throughput is the mirror
            q["measured"] = [float(-hi * 1.25), float(-lo * 1.25)]
            spread = float(np.std(design.get(th, "dev_c")) * Z80)
            q["calibrated"] = [float(-np.hypot(hi * 1.25, spread)), float(np.hypot(lo * 1.25, spread))]
            q["roofline"] = [min(q["calibrated"][0] * 1.5, DEFAULT_Q["roofline"][0]),
                             max(q["calibrated"][1] * 1.5, DEFAULT_Q["roofline"][1])]
    return {"ec": ec.tolist(), "em": em.tolist(), "ex": ex.tolist(), "om": om.tolist(),
            "run_frac": np.exp(design.get(th, "run_f")).tolist(), "run_s": np.exp(design.get(th, "run_s")).tolist(),
            "basis": basis.tolist(), "q": q, "theta": th.tolist(),
            "families": list(data.families) if data is not None else [""], "meta": meta}


def predict_rows(model, state: dict[str, Any], rows: pd.DataFrame, prior: bool = False) -> pd.DataFrame:
    """A fitted training state's predictions for published training rows (validate's held-out rows): the row's
    observed value (time to train for MLPerf rows, tokens/s or samples/s otherwise), the prediction, its 80%
    interval and basis. prior: the priors alone (nothing fitted: the spec-sheet baseline)."""
    data = Rows(model, rows)
    fams = list(state.get("families") or [""])
    design = Design(model.dev_, list(model.workloads_), len(fams))
    th = design.mean.copy() if prior else np.asarray(state["theta"], dtype=float)
    # a software family the state never saw is predicted as the tuned reference (family 0)
    data.src = np.array([fams.index(f) if f in fams else 0 for f in np.asarray(data.families)[data.src]], dtype=int)
    eff = design.effs(th, data.cls, data.d, data.pc, data.src)
    parts, peak_total, chosen = _parts(data, eff)
    pred = _predict(design, th, data, parts, peak_total)
    basis = np.asarray(state["basis"], dtype=int)
    b = np.where(data.w >= 0, basis[np.maximum(data.w, 0), data.d],
                 np.where(basis[:, data.d].min(axis=0) <= BASES.index("calibrated"), BASES.index("calibrated"),
                          BASES.index("roofline")))
    q = np.array([state["q"].get(BASES[i], DEFAULT_Q["roofline"]) for i in b], dtype=float)
    # an interval on throughput [lo, hi] is one on time [1/hi, 1/lo]
    low = np.where(data.mlperf, pred * np.exp(-q[:, 1]), pred * np.exp(q[:, 0]))
    high = np.where(data.mlperf, pred * np.exp(-q[:, 0]), pred * np.exp(q[:, 1]))
    f = data.frame
    return pd.DataFrame({"workload": f["workload"].fillna("").replace("", "other LLM"), "device": f["device"],
                         "device_kind": [model.dev_["kind"][i] for i in data.d], "device_count": data.n,
                         "source": f["source_kind"], "system_key": f["system_key"], "is_time": data.mlperf,
                         "actual": data.obs, "pred": np.where(chosen.fits, pred, np.nan), "low": low, "high": high,
                         "basis": [BASES[i] for i in b], "fits": chosen.fits.astype(bool)})
