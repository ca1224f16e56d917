#!/usr/bin/env bash
# The seeded mutation fuzzer of the subprocess worker's decoder
# (python/esem_bridge/codec.py), longer than the 20 000 cases of
# `npm run test:python`: mutations of the real payloads in fuzz/corpus/wire.
#
#   bash scripts/fuzz-codec-py.sh [cases] [seed]   # default 1 000 000, 20240507
set -euo pipefail
cd "$(dirname "$0")/.."
export ESEM_FUZZ_CASES="${1:-1000000}" ESEM_FUZZ_SEED="${2:-20240507}"
exec python3 -c '
import sys
sys.path.insert(0, "python/tests")
import test_codec
test_codec.test_mutated_payloads_decode_or_fail_clearly()
'
