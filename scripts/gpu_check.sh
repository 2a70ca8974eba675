#!/usr/bin/env bash
# GPU build recipe: on a GPU machine (Ubuntu 24.04, PyTorch 2.x for CUDA,
# system CUDA/NCCL), configure against the installed PyTorch's LibTorch, build,
# run the tests (GPU tests included) and the benchmarks, and write logs and
# results into OUT_DIR. Libraries the machine lacks (CLI11, nlohmann-json,
# fmt, libzip, gtest, benchmark) come from Debian packages that
# `scripts/gpu_check.sh --download` fetches here into .carry/debs (carry it).
# Usage: scripts/gpu_check.sh OUT_DIR        (on the GPU machine)
#        scripts/gpu_check.sh --download     (here, before the call)
set -euo pipefail
cd "$(dirname "$0")/.."

carry_packages=(libcli11-dev nlohmann-json3-dev libfmt-dev libfmt9 libzip-dev libzip4
  libgtest-dev libgmock-dev libbenchmark-dev libbenchmark1debian libyaml-cpp-dev libyaml-cpp0.7
  libeigen3-dev)

if [ "${1:-}" = "--download" ]; then
  mkdir -p .carry/debs
  (cd .carry/debs && apt-get download "${carry_packages[@]}")
  exit 0
fi

out=${1:?usage: scripts/gpu_check.sh OUT_DIR}
mkdir -p "$out"
exec > >(tee "$out/gpu_check.log") 2>&1

# Unpack carried packages into a private prefix (never into /).
prefix=$PWD/.carry/prefix
if [ -d .carry/debs ]; then
  mkdir -p "$prefix"
  for deb in .carry/debs/*.deb; do dpkg -x "$deb" "$prefix"; done
  # Debian's dev symlinks point at the runtime libraries unpacked beside them.
  export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
fi

torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.csv"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'

cmake -S . -B build-gpu -G "$(command -v ninja >/dev/null && echo Ninja || echo 'Unix Makefiles')" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr;$prefix/usr/lib/x86_64-linux-gnu/cmake;$prefix/usr/share" \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DSAGBENCH_CUDA=ON 2>&1 | tee "$out/configure.log"
cmake --build build-gpu -j "$(nproc)" 2>&1 | tee "$out/build.log" | tail -20
ctest --test-dir build-gpu --output-on-failure -j 4 --output-junit "$out/ctest.xml" 2>&1 | tee "$out/ctest.log" | tail -30
if compgen -G "build-gpu/experiments/bench_*" >/dev/null; then
  for bench in build-gpu/experiments/bench_*; do
    "$bench" --benchmark_out="$out/$(basename "$bench").json" --benchmark_out_format=json || true
  done
fi
