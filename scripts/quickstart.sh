#!/usr/bin/env bash
# The main job: every guidance method of the SAG paper on the bundled
# Fashion-MNIST model (bundle/), evaluated with the bundled feature network,
# in a few minutes on a 2-core CPU. Installs packages and builds first.
# Writes runs/fashion_quickstart/<configuration>/ (samples npz, samples_grid.png,
# metrics.json, config, provenance) and runs/fashion_quickstart/report/
# (report.md/.csv/.json), and prints the table. Rerunning resumes: finished
# configurations are kept. Extra arguments are experiment overrides, e.g.
#   bash scripts/quickstart.sh experiment.num_samples=500
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
sagbench=build/src/sagbench
reference=runs/refs/fashion_test.npz

if [[ ! -f $reference ]]; then
  mkdir -p "$(dirname "$reference")"
  "$sagbench" ref fashion-mnist:test --config configs/evaluators/fashion.yaml --out "$reference"
fi
"$sagbench" run experiments/fashion/quickstart.yaml "$@"
"$sagbench" report runs/fashion_quickstart --out runs/fashion_quickstart/report
