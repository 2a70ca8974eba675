#!/usr/bin/env bash
# Installs sagbench's Debian 12 dependencies (idempotent, apt-get only) and
# builds the project into build/. The only place in the project that installs
# anything. Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git xz-utils
  libtorch-dev libyaml-cpp-dev libeigen3-dev libopencv-dev libzip-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libgtest-dev libgmock-dev
  libbenchmark-dev libopenmpi-dev openmpi-bin dataset-fashion-mnist
  python3-numpy clang libopenblas0-openmp
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--no-build" ] && exit 0
[ -f build/CMakeCache.txt ] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
