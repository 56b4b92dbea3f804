"""Wall power of a setup: a host term per node plus each device's own power (numpy only: the planning path).

    system W = nodes x host(u) + n x device(u)
    device(u) = idle + (cap - idle) u^gamma,   cap = board power x cap fraction (1, or the MaxQ operating point)
    host(u)   = H (h_idle + (1 - h_idle) u)    H = the host of one node at full load (CPUs, memory, fans, NICs)

H per node: where the device has a reference system in data/raw/system_power.csv (DGX A100 / H100 / H200 /
B200), `host_ref_frac` x that system's host figure (system max - 8 x GPU TDP, a design upper bound; the fitted
fraction is what a loaded system draws of it); else the kind's fitted `host_w`, for a 2-socket, 128-core host,
moved by `host_w_per_core` where a row names its host CPUs. Power-capped submissions (MLPerf "MaxQ", Qualcomm
"EE") run the devices at `cap_frac[kind]` of board power. Everything is in `PerformanceModel.power_` (JSON);
the fit is `hwplan.costmodel.estimators.PowerCurve`. PUE stays outside (the cost arithmetic multiplies by it).
"""

from __future__ import annotations

import csv
import re
from typing import Any

import numpy as np

from hwplan.core.paths import DATA_DIR

SYSTEM_POWER_CSV = DATA_DIR / "raw" / "system_power.csv"
HOST_IDLE_FRAC = 0.5   # assumption: an idle server host draws half its loaded power (fans, DRAM, NICs stay on)
REF_CORES = 128        # the host `host_w` is quoted for: 2 sockets x 64 cores
PRIOR = {"cap_frac": (0.7, 0.3), "host_w": (600.0, 1.0), "host_ref_frac": (0.41, 0.3), "host_w_per_core": (3.0, 1.0)}
# host_ref_frac prior: DGX H100 "typical 6.5-8.5 kW" (system_power.csv notes) at 8 x 700 W -> (7.5 - 5.6) / 4.6
# = 0.41 of the 4.6 kW design host figure; cap_frac prior: a MaxQ cap somewhere in 50-100% of board power;
# host_w prior: a 2-socket server; each is a log-normal (median, sd of the log)
GAMMAS = (0.5, 0.75, 1.0, 1.5, 2.0)
_CAPPED = re.compile(r"maxq|\bEE\)", re.IGNORECASE)
_CORES = re.compile(r"host=[^;]*?(\d+)-Core Processor x(\d+)")
_NODES = re.compile(r"\bnodes=(\d+)")


def host_references(path=SYSTEM_POWER_CSV) -> dict[str, float]:
    """Device id -> host W of its reference 8-device system (rows with a host estimate; empty without the file)."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return {}
    out: dict[str, float] = {}
    for r in rows:
        try:
            h = float(r.get("host_power_w_estimate") or "nan")
        except ValueError:
            continue
        if np.isfinite(h) and h > 0 and r.get("device"):
            out.setdefault(str(r["device"]), h)
    return out


def capped(run_id, notes) -> np.ndarray:
    """Rows of a power-capped submission: "MaxQ" in the run id or notes, or Qualcomm's "EE" systems."""
    return np.array([bool(_CAPPED.search(f"{r} {n}")) for r, n in zip(run_id, notes)], dtype=bool)


def host_cores(notes) -> np.ndarray:
    """Host CPU cores a row's notes name ("host=AMD EPYC 7742 64-Core Processor x2" -> 128); NaN if none."""
    out = []
    for n in notes:
        m = _CORES.search(str(n))
        out.append(float(int(m.group(1)) * int(m.group(2))) if m else np.nan)
    return np.array(out, dtype=float)


def row_nodes(notes, n, per_node) -> np.ndarray:
    """Nodes of a row: "nodes=K" in its notes, else whole nodes of the catalog's devices per node."""
    default = np.ceil(np.asarray(n, dtype=float) / np.maximum(np.asarray(per_node, dtype=float), 1))
    out = []
    for note, dflt in zip(notes, default):
        m = _NODES.search(str(note))
        out.append(float(m.group(1)) if m else float(dflt))
    return np.maximum(np.array(out, dtype=float), 1)


def default_state() -> dict[str, Any]:
    """The power state with nothing fitted: the priors."""
    return {"model": "wall", "gamma": 1.0, "host_idle_frac": HOST_IDLE_FRAC, "ref_cores": REF_CORES,
            "host_w": {}, "host_default_w": PRIOR["host_w"][0], "host_w_per_core": PRIOR["host_w_per_core"][0],
            "host_ref_w": host_references(), "host_ref_frac": PRIOR["host_ref_frac"][0],
            "cap_frac": {}, "cap_default": PRIOR["cap_frac"][0], "rows": 0,
            "basis": "assumption: no wall-power rows (priors)"}


def node_host_w(state: dict[str, Any], devices, kinds, cores=None) -> np.ndarray:
    """Each device's host W per node at full load (cores: the host's CPU cores where known, else REF_CORES)."""
    ref = state.get("host_ref_w", {})
    kw = state.get("host_w", {})
    base = np.array([kw.get(k, state["host_default_w"]) for k in kinds], dtype=float)
    if cores is not None:
        c = np.where(np.isfinite(cores), cores, state["ref_cores"])
        base = np.maximum(base + state["host_w_per_core"] * (c - state["ref_cores"]), 0.1 * base)
    r = np.array([ref.get(d, np.nan) for d in devices], dtype=float) * state["host_ref_frac"]
    return np.where(np.isfinite(r), r, base)


def cap_fraction(state: dict[str, Any], kinds, is_capped) -> np.ndarray:
    cf = state.get("cap_frac", {})
    f = np.array([cf.get(k, state["cap_default"]) for k in kinds], dtype=float)
    return np.where(np.asarray(is_capped, dtype=bool), f, 1.0)


def system_power(gamma, host_idle_frac, board, idle, util, n, nodes, host_w, cap_frac=1.0):
    """(wall W, devices' W, idle wall W): nodes x host(u) + n x (idle + (cap - idle) u^gamma)."""
    cap = np.asarray(board, dtype=float) * cap_frac
    idle = np.minimum(idle, cap)
    u = np.clip(util, 0.0, 1.0)
    dev = n * (idle + (cap - idle) * u ** gamma)
    host = nodes * host_w * (host_idle_frac + (1 - host_idle_frac) * u)
    return dev + host, dev, n * idle + nodes * host_w * host_idle_frac


def describe(state: dict[str, Any]) -> str:
    """One line: what the power figures rest on."""
    hosts = ", ".join(f"{k} {v:,.0f} W" for k, v in sorted(state.get("host_w", {}).items()))
    caps = ", ".join(f"{k} {v:.2f}" for k, v in sorted(state.get("cap_frac", {}).items()))
    return (f"wall power = host per node x nodes + devices (idle + (board - idle) u^{state['gamma']:g}); host per node: "
            f"{state['host_ref_frac']:.2f} x the reference system's host figure (system_power.csv) where there is one, "
            f"else by kind ({hosts or 'prior ' + format(state['host_default_w'], ',.0f') + ' W'}); "
            f"power-capped (MaxQ) cap fraction by kind: {caps or 'prior ' + format(state['cap_default'], '.2f')}; "
            f"{state.get('basis', '')}; PUE not included")


def device_and_host_power(A, d, n, util):
    """(wall W, devices' W, idle wall W) of n devices d at utilisation util, at the board-power operating point:
    nodes x host per node + n x device power (the planning path predicts uncapped systems)."""
    n = np.asarray(n, dtype=float)
    nodes = np.ceil(n / np.maximum(A["per_node"][d], 1))
    return system_power(A["power_gamma"], A["host_idle_frac"], A["board_w"][d], A["idle_w"][d], util, n,
                        nodes, A["host_node_w"][d])
