#!/usr/bin/env bash
# Local vs Ray backend on one submission's evaluate stage, with 1 and 2 workers: wall time of each run and whether
# the per-clip scores are identical. Ray runs twice: `ray` starts a one-node cluster inside the stage (what a
# laptop user gets with BENCHMARK_BACKEND=ray alone), `ray-up` joins a cluster started beforehand with `ray start`
# (what a cluster user gets through RAY_ADDRESS). Run it on an otherwise idle machine, after `make repro` (it needs the
# prepared data and the trained model); it leaves results/ as it found it.
#   bash scripts/bench_backends.sh [SUBMISSION]      (default: integrated_gradients)
# Ray runs its task processes at nice 15: beside any other work they are starved, and the figures mean nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
S=${1:-integrated_gradients}
export PATH="$PWD/.venv/bin:$PATH" RAY_USAGE_STATS_ENABLED=0
OUT=$(mktemp -d)
KEEP=""
if [ -d "results/$S" ]; then KEEP="$OUT/kept"; cp -r "results/$S" "$KEEP"; fi
for w in 1 2; do
  sed "s/^  workers: [0-9]*/  workers: $w/" params.yaml > "$OUT/params_w$w.yaml"
  for run in local ray ray-up; do
    backend=${run%-up}
    if [ "$run" = ray-up ]; then
      ray start --head --num-cpus="$w" --include-dashboard=false --disable-usage-stats \
        --temp-dir="$OUT/ray" > "$OUT/ray-start.log" 2>&1 || { echo "ray start failed (see $OUT/ray-start.log)"; continue; }
      export RAY_ADDRESS=auto
    fi
    t0=$(date +%s.%N)
    if ! BENCHMARK_BACKEND=$backend benchmark --params "$OUT/params_w$w.yaml" evaluate "$S" > "$OUT/$run-w$w.log" 2>&1; then
      echo "$run, $w worker(s): FAILED (see $OUT/$run-w$w.log)"
    else
      t1=$(date +%s.%N)
      cp -r "results/$S" "$OUT/$run-w$w"
      echo "$run, $w worker(s): $(python3 -c "print(f'{$t1 - $t0:.1f}')") s"
    fi
    if [ "$run" = ray-up ]; then unset RAY_ADDRESS; ray stop --force > /dev/null 2>&1; fi
  done
done
"$PWD/.venv/bin/python" - "$OUT" <<'PY'
import sys
from pathlib import Path
import pandas as pd
out = Path(sys.argv[1])
runs = [r for r in ("local-w1", "ray-w1", "ray-up-w1", "local-w2", "ray-w2", "ray-up-w2") if (out / r / "per_clip.csv").is_file()]
ref = pd.read_csv(out / runs[0] / "per_clip.csv").drop(columns=["runtime_s"])
for run in runs[1:]:
    same = pd.read_csv(out / run / "per_clip.csv").drop(columns=["runtime_s"]).equals(ref)
    print(f"{run}: per-clip scores (every column but runtime_s) identical to {runs[0]}'s: {same}")
PY
rm -rf "results/$S"
if [ -n "$KEEP" ]; then cp -r "$KEEP" "results/$S"; fi
rm -rf "$OUT"
