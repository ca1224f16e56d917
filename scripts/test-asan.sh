#!/usr/bin/env bash
# Runs the suite against an AddressSanitizer + LeakSanitizer + UBSan build
# of the addon (cmake-js, ESEM_ASAN=ON, with the GIL assertions of
# ESEM_DEBUG=ON), loaded into the normal node through LD_PRELOAD. Linux/gcc.
# Leaks are reported at each process's exit, less what
# scripts/lsan-suppressions.txt names (CPython's and Node's own memory).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${TMPDIR:-/tmp}/esem-asan"
npx cmake-js compile --out "$out" --CDESEM_ASAN=ON --CDESEM_DEBUG=ON >/dev/null
export ESEM_ADDON="$out/Release/esem_bridge.node"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=${ESEM_LSAN:-1},verify_asan_link_order=0"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt,print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1,halt_on_error=1"
# The version matrix is left out: CPython 3.8 installs its own alternate
# signal stack (faulthandler) on the thread that initializes it, and ASan's
# thread teardown aborts when it finds that stack instead of its own.
# The fault tests are left out too: their worker inherits LD_PRELOAD, and
# ASan turns the deliberate segfault into a report and exit code 1.
npx vitest run --exclude test/python-versions.test.ts --exclude test/faults.test.ts "$@"
