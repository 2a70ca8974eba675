#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cpp) with clang, ASan and
# UBSan in build-fuzz/, seeds each from the fixtures, runs each for a bounded
# time and prints what it found (crash, leak and timeout inputs are kept in
# build-fuzz/fuzz-findings/<target>/). Exits non-zero if anything was found.
# Usage: scripts/fuzz.sh [seconds per target, default 120] [build dir]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
build="${2:-build-fuzz}"
fixtures="$(cd .. && pwd)/shared/fixtures"

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAGBENCH_FUZZ=ON \
  -DSAGBENCH_CUDA=OFF >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
mapfile -t targets < <(for f in tests/fuzz/*_fuzz.cpp; do basename "$f" .cpp; done)
ninja -C "$build" -j "${FUZZ_JOBS:-2}" "${targets[@]}"

work="$build/fuzz-work"
findings="$build/fuzz-findings"
rm -rf "$work"
mkdir -p "$work" "$findings"

# Seeds: the data.pkl of every fixture checkpoint and the first 70 kB of the
# legacy .pth (its five pickles) for pickle_fuzz and checkpoint_fuzz; every
# .npy inside the fixture .npz files for npy_fuzz.
seed_dir() {
  local target="$1" dir="$work/$1-seeds"
  mkdir -p "$dir"
  case "$target" in
    pickle_fuzz | checkpoint_fuzz)
      for pt in "$fixtures"/*.pt; do
        unzip -p "$pt" '*/data.pkl' >"$dir/$(basename "$pt" .pt).pkl"
      done
      local pth="$build/fixtures/fid_inception_random.pth"
      [ -f "$pth" ] || tar -xJf "$fixtures/fid_inception_random.pth.tar.xz" -C "$work"
      [ -f "$pth" ] || pth="$work/fid_inception_random.pth"
      head -c 70000 "$pth" >"$dir/legacy_head.bin"
      ;;
    npy_fuzz)
      for npz in "$fixtures"/*.npz; do
        unzip -o -q "$npz" -d "$dir/$(basename "$npz" .npz)"
      done
      find "$dir" -name '*.npy' -size +64k -delete
      ;;
  esac
  echo "$dir"
}

status=0
for target in "${targets[@]}"; do
  seeds="$(seed_dir "$target")"
  corpus="$work/$target-corpus"
  out="$findings/$target"
  mkdir -p "$corpus" "$out"
  # Pickle seeds are cut to 8 kB: short inputs run ~20x faster and still hold every opcode kind.
  max_len=65536
  [ "$target" = npy_fuzz ] || max_len=8192
  echo "== $target: ${seconds}s, $(find "$seeds" -type f | wc -l) seed files"
  set +e
  "$build/tests/fuzz/$target" "$corpus" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$out/" >"$work/$target.log" 2>&1
  rc=$?
  set -e
  grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$work/$target.log" || true
  grep -E '^#[0-9]+ +DONE' "$work/$target.log" | tail -1 || true
  artifacts=("$out"/*)
  if [ "$rc" -ne 0 ] || [ -e "${artifacts[0]}" ]; then
    status=1
    echo "!! $target found something (exit $rc); log: $work/$target.log"
    grep -E 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|libFuzzer)|runtime error|Test unit written' \
      "$work/$target.log" | head -20 || true
  else
    echo "   $target: no crash, leak or timeout"
  fi
done
exit "$status"
