#!/usr/bin/env bash
# Runs the suite against an AddressSanitizer + LeakSanitizer + UBSan build
# of the addon (cmake-js, ESEM_ASAN=ON, with the GIL assertions of
# ESEM_DEBUG=ON), loaded into the normal node through LD_PRELOAD. Linux/gcc.
#
# Every process of the run (node, its workers, Python workers that inherit
# LD_PRELOAD) writes its sanitizer reports to $out/reports/report.<pid>
# instead of failing on exit; the run fails on any ASan or UBSan error.
# Leaks are judged in one child written for it (test/child/asan-leak-check.mjs):
# it frees everything it made and ends normally, so any leak whose stack
# passes through the addon (esem_bridge.node) fails the run. (In the suite's
# own processes, objects that JS still holds at exit, or that a test left to
# process exit, show as leaks: V8's heap is not scanned, so they are listed,
# not counted.) Leaks of Node, V8 and CPython themselves (the interpreter is
# never finalized, by design) are never counted.
set -euo pipefail
cd "$(dirname "$0")/.."
# One build folder per source tree: a CMake build folder remembers the
# sources it was made from, so a shared one would build another checkout's.
out="${TMPDIR:-/tmp}/esem-asan-$(pwd | cksum | cut -d' ' -f1)"
reports="$out/reports"
npx cmake-js compile --out "$out" --CDESEM_ASAN=ON --CDESEM_DEBUG=ON >/dev/null
rm -rf "$reports" && mkdir -p "$reports"
export ESEM_ADDON="$out/Release/esem_bridge.node"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=1,verify_asan_link_order=0,log_path=$reports/report"
export LSAN_OPTIONS="exitcode=0"
export UBSAN_OPTIONS="print_stacktrace=1,halt_on_error=1,log_path=$reports/report"
# The version matrix is left out: CPython 3.8 installs its own alternate
# signal stack (faulthandler) on the thread that initializes it, and ASan's
# thread teardown aborts when it finds that stack instead of its own.
# The fault tests are left out too: their worker inherits LD_PRELOAD, and
# ASan turns the deliberate segfault into a report and exit code 1.
# The package test installs a tarball (no ASan build inside), Bun and Deno
# are other runtimes, and the exit torture and short stress run judge
# deadlines and memory that a sanitizer build does not keep (the exit paths
# are run under ASan by test/python-host.test.ts).
status=0
npx vitest run --exclude test/python-versions.test.ts --exclude test/faults.test.ts \
  --exclude test/package.test.ts --exclude test/runtimes.test.ts \
  --exclude test/exit-torture.test.ts --exclude test/stress-short.test.ts --testTimeout=120000 "$@" || status=$?
node scripts/sanitizer-reports.mjs "$reports" || status=$?
leaks="$out/leak-check"
rm -rf "$leaks" && mkdir -p "$leaks"
ASAN_OPTIONS="detect_leaks=1,verify_asan_link_order=0,log_path=$leaks/report" \
  node --expose-gc test/child/asan-leak-check.mjs test/fixtures || status=$?
node scripts/sanitizer-reports.mjs "$leaks" --leaks || status=$?
exit $status
