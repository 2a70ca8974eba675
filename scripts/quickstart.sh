#!/usr/bin/env bash
# The main job. Until the bundled Fashion-MNIST models are trained and
# `sagbench sample` lands (issues #3 and #7), it runs what works end to end:
# reads the upstream checkpoints natively (the tiny ADM of the parity
# fixtures and the legacy-format FID-Inception weights) and trains the
# Fashion-MNIST feature network briefly, printing its test accuracy.
# Usage: scripts/quickstart.sh   (installs packages and builds first)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
sagbench=build/src/sagbench
fixtures=$(cd .. && pwd)/shared/fixtures

"$sagbench" info "$fixtures/adm_tiny_uncond.pt"
"$sagbench" info build/fixtures/fid_inception_random.pth | tail -n 5
"$sagbench" train configs/train/fashion_feature_net.yaml steps=300 log_every=50 name=quickstart_feature_net
