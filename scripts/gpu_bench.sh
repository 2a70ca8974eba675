#!/usr/bin/env bash
# Sampling-cost benchmarks on a GPU machine (issue 8 item 3), after
# scripts/gpu_check.sh has built build-gpu/: bench_sampling on ADM-256 uncond
# and ADM-128 cond (random weights) at batches 16 and 64 for every guidance
# method, fp16 torso (as the reference timings of ../shared/REFERENCE.md §5)
# and fp32, plus bench_evaluator and the kernel bandwidth tests. Writes JSON
# and logs into OUT_DIR, named after the card; copy them to results/bench/.
# Usage: scripts/gpu_bench.sh OUT_DIR [STEPS_PER_SAMPLE (default 5)]
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:?usage: scripts/gpu_bench.sh OUT_DIR [STEPS_PER_SAMPLE]}
steps=${2:-5}
mkdir -p "$out"
build=build-gpu
[ -x "$build/experiments/bench_sampling" ] || { echo "gpu_bench: run scripts/gpu_check.sh first ($build/experiments/bench_sampling missing)" >&2; exit 1; }
if [ -d .carry/prefix ]; then
  export LD_LIBRARY_PATH=$PWD/.carry/prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
fi

card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
card_tag=$(echo "$card" | tr -cs 'A-Za-z0-9' '_' | sed 's/_*$//')
export SAGBENCH_BENCH_MACHINE="$card ($(nproc) CPU cores)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv | tee "$out/gpu_${card_tag}.csv"

for precision in fp16 fp32; do
  "$build/experiments/bench_sampling" --device=cuda --precision="$precision" --steps="$steps" \
    --models=adm256_uncond,adm128_cond --batches=16,64 --repetitions=3 \
    --benchmark_out="$out/sampling_${card_tag}_${precision}.json" --benchmark_out_format=json \
    2>&1 | tee "$out/sampling_${card_tag}_${precision}.log"
done

if [ -x "$build/experiments/bench_evaluator" ]; then
  "$build/experiments/bench_evaluator" --benchmark_out="$out/evaluator_${card_tag}.json" \
    --benchmark_out_format=json 2>&1 | tee "$out/evaluator_${card_tag}.log"
fi

# Kernel bandwidth (printed as [bandwidth] lines, also gtest properties in the XML).
"$build/tests/kernels_tests" --gtest_filter='*Cuda*' --gtest_output="xml:$out/kernels_${card_tag}.xml" \
  2>&1 | tee "$out/kernels_${card_tag}.log"
