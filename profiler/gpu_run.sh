#!/usr/bin/env bash
# Run hwplan's full profiling suite on an accelerator box and leave everything under $OUT.
#
# Needs only python, torch, numpy, pandas (and nvidia-ml-py for NVML energy). Run from the repository root:
#   OUT=/tmp/hwplan-out bash profiler/gpu_run.sh
# Knobs (environment): SUITE (full), DEVICE (cuda; cpu to try it anywhere), WORKLOADS (all), TIME_LIMIT_S (900).
# Rows go to $OUT/rows.csv (appended as each measurement finishes); rerunning resumes the same run.
set -u
OUT="${OUT:?set OUT to a folder for the results}"
SUITE="${SUITE:-full}"
DEVICE="${DEVICE:-cuda}"
TIME_LIMIT_S="${TIME_LIMIT_S:-900}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
cd "$(dirname "$(readlink -f "$0")")/.."

# What the machine is, recorded next to the rows (each step may fail on a box without that tool).
{ nvidia-smi -q 2>/dev/null || echo "nvidia-smi not available"; } > "$OUT/nvidia-smi-q.txt"
{ nvidia-smi --query-gpu=index,name,memory.total,power.limit,driver_version --format=csv 2>/dev/null || true; } > "$OUT/nvidia-smi.csv"
"$PY" - > "$OUT/environment.json" 2>"$OUT/environment.err" <<'PYEOF'
import json
from hwplan.profiler.doctor import doctor_report
print(json.dumps(doctor_report(), indent=1, default=str))
PYEOF

# The store stays inside $OUT (never the user's default); CSV is the deliverable.
export HWPLAN_DB="${HWPLAN_DB:-$OUT/profile.db}"
ARGS=(--suite "$SUITE" --device "$DEVICE" --out "$OUT/rows.csv" --time-limit-s "$TIME_LIMIT_S")
if [ -n "${WORKLOADS:-}" ]; then
  # shellcheck disable=SC2206
  ARGS+=(--workload $WORKLOADS)
fi
if [ -s "$OUT/rows.csv" ]; then
  RUN_ID="$(tail -n 1 "$OUT/rows.csv" | cut -d, -f1)"
  [ -n "$RUN_ID" ] && [ "$RUN_ID" != "run_id" ] && ARGS+=(--resume "$RUN_ID")
fi
if ! "$PY" -c "import sqlalchemy" 2>/dev/null; then
  unset HWPLAN_DB  # no SQLAlchemy here: rows.csv only
fi
"$PY" -m hwplan profile "${ARGS[@]}" --json > "$OUT/summary.json" 2> "$OUT/progress.log"
rc=$?
echo "exit $rc; rows in $OUT/rows.csv" | tee -a "$OUT/progress.log"
exit $rc
