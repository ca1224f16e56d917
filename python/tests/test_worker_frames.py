"""The worker's frame reader under malformed frames from Node (issue 7,
defect 6): values that do not decode within their frame answer that call
with ESEM_PROTOCOL and the worker goes on; a frame shorter than its header
ends the worker with a one-line message (exit code 3), never a traceback.
Plain asserts: run with `python3 python/tests/test_worker_frames.py`."""

import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from test_codec import WorkerClient, _frame, encode_js  # noqa: E402

OP_CALL, OP_IMPORT = 1, 4


def _raw(payload):
    return struct.pack("<I", len(payload)) + payload


class _Client(WorkerClient):
    """WorkerClient with stderr captured."""

    def __init__(self):
        import socket

        parent, child = socket.socketpair()
        boot = "import sys; sys.path.append(sys.argv[1]); import esem_bridge.worker as w; w.main(3)"
        fd = child.fileno()
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-c", boot, os.path.dirname(HERE)],
            pass_fds=(3,),
            preexec_fn=lambda: os.dup2(fd, 3) and None,
            stderr=subprocess.PIPE,
        )
        child.close()
        self.sock = parent
        self.buf = b""
        status, _, _ = self.read()
        assert status == 3


def _math(c):
    status, _, (mod,) = c.request(OP_IMPORT, 0, "math", "/")
    assert status == 0
    return mod


def test_a_value_cut_short_by_its_frame_answers_esem_protocol_and_the_worker_goes_on():
    c = _Client()
    try:
        mod = _math(c)
        # Args declared as a 3-item list with one item: the decoder runs past
        # the frame's end into the next frame, which must still run.
        body = struct.pack("<BId", OP_CALL, 5, mod.id) + encode_js(["floor"]) + b"\x07" + struct.pack("<I", 3) + encode_js(1.5)
        c.sock.sendall(_raw(body) + _frame(OP_CALL, 6, mod.id, ["floor"], [2.5], None))
        status, seq, (code, message) = c.read()
        assert (status, seq, code[1]) == (2, 5, "ESEM_PROTOCOL"), (status, seq, code, message)
        assert "malformed request" in message[1]
        assert c.read() == (0, 6, [("int", 2)])
    finally:
        assert c.close() == 0


def test_a_frame_with_too_few_values_or_garbage_answers_esem_protocol():
    c = _Client()
    try:
        mod = _math(c)
        cases = [
            struct.pack("<BId", OP_CALL, 7, mod.id) + encode_js(["floor"]),  # no args
            struct.pack("<BId", OP_CALL, 8, mod.id) + b"\xee\xee\xee",  # an unknown tag
            struct.pack("<BId", OP_CALL, 9, mod.id) + b"\x03",  # a value cut at the frame's end
        ]
        for i, body in enumerate(cases):
            c.sock.sendall(_raw(body))
            status, seq, values = c.read()
            assert (status, seq) == (2, 7 + i), (status, seq, values)
            assert values[0][1] == "ESEM_PROTOCOL", values
        back = c.request(OP_CALL, mod.id, ["floor"], [3.5], None, seq=10)
        assert back == (0, 10, [("int", 3)]), back
    finally:
        assert c.close() == 0


def test_a_frame_shorter_than_its_header_ends_the_worker_with_a_message():
    c = _Client()
    try:
        c.sock.sendall(_raw(b"\x01\x02\x03"))
        code = c.proc.wait(10)
        err = c.proc.stderr.read().decode()
        assert code == 3, (code, err)
        assert "malformed frame from Node (a 3-byte request is shorter than its 13-byte header)" in err, err
        assert "Traceback" not in err, err
    finally:
        c.sock.close()


if __name__ == "__main__":
    from runner import run_all

    sys.exit(1 if run_all(globals()) else 0)
