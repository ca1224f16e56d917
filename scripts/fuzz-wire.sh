#!/usr/bin/env bash
# Coverage-guided fuzzing of the native value path (native/py_wire_read.cc
# and py_wire_write.cc, wire bytes <-> PyObjects, with a real CPython in the
# fuzzer) with libFuzzer + AddressSanitizer + UBSan: builds
# fuzz/wire_fuzzer.cc with clang (installing clang and its runtime from
# Debian's packages when they are missing), seeds it with real payloads
# from src/codec.ts, and runs it. The interpreter is python3's (or
# ESEM_PYTHON's); it must have a shared libpython.
#
#   bash scripts/fuzz-wire.sh [seconds]   # default FUZZ_SECONDS or 60
#
# FUZZ_DIR keeps the binary, the growing corpus and any crash between runs
# (default ${TMPDIR:-/tmp}/esem-fuzz-wire); the long run is the same script
# with more seconds. Exit status 0: no finding; otherwise the input that
# failed is in $FUZZ_DIR and the command to replay it is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${FUZZ_SECONDS:-60}}"
work="${FUZZ_DIR:-${TMPDIR:-/tmp}/esem-fuzz-wire}"
mkdir -p "$work/corpus" "$work/seeds"

# A clang whose -fsanitize=fuzzer links: the newest installed, else Debian's.
probe="$work/probe.cc"
printf '%s\n' '#include <cstdint>' '#include <cstddef>' \
  'extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }' >"$probe"
find_clang() {
  for c in clang++ clang++-19 clang++-16 clang++-15 clang++-14; do
    if command -v "$c" >/dev/null &&
      "$c" -fsanitize=fuzzer,address,undefined "$probe" -o "$work/probe" 2>/dev/null; then
      echo "$c"
      return 0
    fi
  done
  return 1
}
if ! cxx="$(find_clang)"; then
  echo "fuzz-wire: no clang with libFuzzer; installing clang and its runtime (apt-get)" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  version="$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9]*\)$/\1/p' | head -n1)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    clang ${version:+libclang-rt-$version-dev} >/dev/null
  cxx="$(find_clang)" || { echo "fuzz-wire: clang installed but -fsanitize=fuzzer still does not link" >&2; exit 1; }
fi

python="${ESEM_PYTHON:-python3}"
libpython="$("$python" -c 'import os, sysconfig as s; print(os.path.join(s.get_config_var("LIBDIR"), s.get_config_var("LDLIBRARY")))')"
[ -f "$libpython" ] || { echo "fuzz-wire: $python has no shared libpython ($libpython)" >&2; exit 1; }
node_include="$(node -p "require('path').resolve(process.execPath, '../../include/node')")"

bin="$work/wire_fuzzer"
"$cxx" -g -O1 -std=c++17 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Inative -I"$node_include" fuzz/wire_fuzzer.cc native/py_api.cc native/py_context.cc native/py_error.cc native/py_js_buffer.cc \
  native/py_json_read.cc native/py_json_write.cc native/py_wire_read.cc native/py_wire_write.cc native/registry.cc native/wire_buffers.cc -ldl -o "$bin"
export ESEM_FUZZ_LIBPYTHON="$libpython" ESEM_FUZZ_RUNTIME="$PWD/python"

# Seeds: the committed ones, and fresh ones from the current encoder when
# dist/ is built (npm install builds it).
seed_dirs=(fuzz/corpus/wire)
if [ -f dist/codec.js ] && node fuzz/make-seeds.mjs "$work/seeds" >/dev/null; then
  seed_dirs+=("$work/seeds")
fi

log="$work/last-run.log"
echo "fuzz-wire: $cxx, ${seconds}s, corpus $work/corpus" >&2
set +e
# Leaks are not judged here: CPython keeps caches across inputs (the
# sanitizer suite, npm run test:asan, judges the addon's leaks).
ASAN_OPTIONS="allocator_may_return_null=0:detect_leaks=0" UBSAN_OPTIONS="print_stacktrace=1" \
  "$bin" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "${seed_dirs[@]}" >"$log" 2>&1
status=$?
set -e

runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
rss="$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")"
last="$(grep -E '^#[0-9]+' "$log" | tail -n1)"
cov="$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/edges \1, features \2, corpus \3 inputs/p' <<<"$last")"
echo "fuzz-wire: ${runs:-?} inputs in ${seconds}s (${speed:-?}/s), ${cov:-coverage unknown}, peak RSS ${rss:-?} MB"
if [ "$status" -ne 0 ]; then
  grep -E 'ERROR|SUMMARY|runtime error|wire_fuzzer:' "$log" | head -n 20 >&2
  artifact="$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log" | tail -n1)"
  echo "fuzz-wire: FOUND a failing input${artifact:+: $artifact}; replay with: $bin ${artifact:-<input>}" >&2
  echo "fuzz-wire: full log in $log" >&2
  exit 1
fi
