#!/usr/bin/env bash
# The main job on the bundled default. Until the Fashion-MNIST bundle exists
# (issue #7) it runs the whole pipeline on the tiny random-weight ADM of the
# parity fixtures: list the checkpoint, sample it without guidance and with
# SAG, and compute FID between the two sets with the random-weight
# FID-Inception fixture (real code paths; meaningless numbers).
# Usage: scripts/quickstart.sh   (installs packages and builds first)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
sagbench=build/src/sagbench
fixtures=$(cd .. && pwd)/shared/fixtures
checkpoint=$fixtures/adm_tiny_uncond.pt
inception=$PWD/build/fixtures/fid_inception_random.pth
config=configs/quickstart/tiny_uncond.yaml
out=runs/quickstart

"$sagbench" info "$checkpoint"
"$sagbench" sample "$config" model.checkpoint="$checkpoint" sampling.run_name=none
"$sagbench" sample "$config" model.checkpoint="$checkpoint" sampling.run_name=sag \
  guidance.sag.s=0.5 guidance.sag.blur_sigma=2 guidance.sag.layer.block=output guidance.sag.layer.depth=1
latest() { ls -d "$out/$1"* | sort -V | tail -n 1; }
none_dir=$(latest none)
sag_dir=$(latest sag)
echo "FID(no guidance, SAG) with random Inception weights (pipeline check only):"
"$sagbench" fid "$none_dir"/samples_*.npz "$sag_dir"/samples_*.npz evaluator.weights="$inception" evaluator.mode=adm
echo "samples: $none_dir $sag_dir"
