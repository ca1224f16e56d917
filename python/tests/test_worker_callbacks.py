"""The worker's callback and cancel frames (docs/protocol.md, issue 9), at
the protocol level: status 4 Callback / op 8 CallbackReply / status 5
ReleaseCallback, and op 9 Cancel. Plain asserts: run with
`python3 python/tests/test_worker_callbacks.py`."""

import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from test_codec import WorkerClient, _frame, encode_js  # noqa: E402

OP_CALL, OP_IMPORT, OP_CALLBACK_REPLY, OP_CANCEL = 1, 4, 8, 9
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "test", "fixtures")


def _fn(fn_id):
    return b"\x11" + struct.pack("<d", float(fn_id))


def _call(seq, ref, name, args_bytes, n_args):
    """A Call whose arguments are given as bytes (a JS function among them)."""
    body = struct.pack("<BId", OP_CALL, seq, ref) + encode_js([name]) + b"\x07" + struct.pack("<I", n_args) + args_bytes + b"\x00"
    return struct.pack("<I", len(body)) + body


def _reply(call_id, ok, *values):
    return _frame(OP_CALLBACK_REPLY, call_id, 1.0 if ok else 0.0, *values)


def _import(c, spec, seq=1):
    status, _, (mod,) = c.request(OP_IMPORT, 0, spec, "/", seq=seq)
    assert status == 0, mod
    return mod.id


def _sorted_frame(mod):
    # sorted([3, 1, 2], key=<JS function 7>): kwargs {"key": fn}
    body = struct.pack("<BId", OP_CALL, 2, mod) + encode_js(["sorted"]) + encode_js([[3, 1, 2]])
    body += b"\x08" + struct.pack("<I", 1) + b"\x05" + struct.pack("<I", 3) + b"key" + _fn(7)
    return struct.pack("<I", len(body)) + body


def test_callbacks_round_trip_and_release():
    c = WorkerClient()
    try:
        assert c.read()[0] == 3
        mod = _import(c, "builtins")
        c.sock.sendall(_sorted_frame(mod))
        ids = set()
        for _ in range(3):
            status, call_id, (fn_id, args, kwargs) = c.read()
            assert status == 4 and call_id and fn_id == 7.0 and kwargs is None, (status, call_id, fn_id, kwargs)
            ids.add(call_id)
            c.sock.sendall(_reply(call_id, True, -args[0][1]))  # args[0] is ("int", n)
        assert len(ids) == 3
        assert c.read() == (0, 2, [[("int", 3), ("int", 2), ("int", 1)]])
        status, seq, (fn_id, count) = c.read()
        assert (status, seq, fn_id, count) == (5, 0, 7.0, ("int", 1))
    finally:
        c.close()


def test_a_thrown_js_error_is_a_jserror_in_python():
    c = WorkerClient()
    try:
        assert c.read()[0] == 3
        mod = _import(c, os.path.join(FIXTURES, "callbacks.py"))
        c.sock.sendall(_call(2, mod, "catch_js", _fn(3), 1))
        status, call_id, (fn_id, args, kwargs) = c.read()
        assert status == 4 and fn_id == 3.0 and args == []
        c.sock.sendall(_reply(call_id, False, "TypeError", "bad input", "TypeError: bad input\n    at x (y.js:1:1)"))
        assert c.read() == (0, 2, [[("str", "JSError"), ("str", "TypeError"), ("str", "bad input"), True]])
    finally:
        c.close()


def test_a_cancel_stops_a_running_spin_and_skips_a_queued_call():
    c = WorkerClient()
    try:
        assert c.read()[0] == 3
        mod = _import(c, os.path.join(FIXTURES, "cancel.py"))
        c.sock.sendall(_frame(OP_CALL, 2, mod, ["clear"], [], None))
        assert c.read()[0] == 0
        c.sock.sendall(_frame(OP_CALL, 3, mod, ["spin"], ["t"], None) + _frame(OP_CALL, 4, mod, ["mark"], ["queued"], None))
        time.sleep(0.1)
        start = time.monotonic()
        c.sock.sendall(_frame(OP_CANCEL, 4, 0) + _frame(OP_CANCEL, 3, 0))
        status, seq, values = c.read()
        assert (status, seq) == (1, 3) and values[0] == ("str", "esem_bridge.cancel.CallCancelled"), (status, seq, values)
        assert time.monotonic() - start < 1.0
        status, seq, values = c.read()
        assert (status, seq, values[0]) == (2, 4, ("str", "ESEM_ABORTED")), (status, seq, values)
        assert c.request(OP_CALL, mod, ["get_marks"], [], None, seq=5) == (0, 5, [[("str", "t:cancelled")]])
    finally:
        c.close()


if __name__ == "__main__":
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    failed = 0
    for name, fn in tests:
        try:
            fn()
            print("ok  ", name)
        except Exception as e:
            failed += 1
            print("FAIL", name, repr(e))
    print("%d passed, %d failed" % (len(tests) - failed, failed))
    sys.exit(1 if failed else 0)
