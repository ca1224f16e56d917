#!/usr/bin/env bash
# Runs the suite against an AddressSanitizer build of the addon (cmake-js,
# ESEM_ASAN=ON, with the GIL assertions of ESEM_DEBUG=ON), loaded into the
# normal node through LD_PRELOAD. Linux/gcc.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${TMPDIR:-/tmp}/esem-asan"
npx cmake-js compile --out "$out" --CDESEM_ASAN=ON --CDESEM_DEBUG=ON >/dev/null
export ESEM_ADDON="$out/Release/esem_bridge.node"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
export ASAN_OPTIONS="detect_leaks=0,verify_asan_link_order=0"
# The version matrix is left out: CPython 3.8 installs its own alternate
# signal stack (faulthandler) on the thread that initializes it, and ASan's
# thread teardown aborts when it finds that stack instead of its own.
# The fault tests are left out too: their worker inherits LD_PRELOAD, and
# ASan turns the deliberate segfault into a report and exit code 1.
npx vitest run --exclude test/python-versions.test.ts --exclude test/faults.test.ts "$@"
