"""The subprocess mode's worker: runs the frames of docs/protocol.md that
Node sends over a socket (fd 3) and answers them. Started by
src/subprocess-worker.ts as

    python3 -u -c "...; import esem_bridge.worker as w; w.main(3, first_id)" <python dir> <first id>

with stdout and stderr the user's; <first id> is where its registry's ids
start (the bridge's ids go on across workers). Frames run in order on the
main thread; the replies to the frames of one read go out together, and
while a read's frames run, a flusher thread sends the replies already made
every millisecond, so a fast call never waits for a slow one after it.
"""

import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import types

from . import native_codec, ops
from .codec import BridgeFailure, Decoder, Encoder
from .registry import Registry

OP_CALL = 1
OP_GET_ATTR = 2
OP_SET_ATTR = 3
OP_IMPORT = 4
OP_RELEASE = 5
OP_HELPER = 6
OP_CALL_PROXY = 7  # a Call whose result is always sent as a proxy (opts({ result: "proxy" }))

STATUS_OK = 0
STATUS_PYTHON_ERROR = 1
STATUS_BRIDGE_ERROR = 2
STATUS_READY = 3

EXIT_MALFORMED = 3  # the worker's exit code after a malformed frame from Node

def _poll_seconds():
    """ESEM_SPIN_US, as on the JS side (default 100 µs)."""
    try:
        us = float(os.environ.get("ESEM_SPIN_US", "100"))
    except ValueError:
        us = 100.0
    return max(us, 0.0) / 1e6


POLL_SECONDS = _poll_seconds()  # after a batch, poll this long before blocking: the next call often follows at once
READ_SIZE = 1 << 16

_REQUEST = struct.Struct("<BId")  # op, seq, ref
_REPLY = struct.Struct("<IBI")  # payload length, status, seq
_U32 = struct.Struct("<I")
_COROUTINE = types.CoroutineType
_MISSING = object()
_EVAL = eval
_EXEC = exec


def _same_path(a, b):
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def _prepare_sys_path():
    """No '' and no cwd on sys.path, as in the native mode (the package's own
    folder stays, whatever the cwd)."""
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = None
    own = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:] = [
        p for p in sys.path
        if p != "" and (cwd is None or not _same_path(p, cwd) or _same_path(p, own))
    ]


class Worker(object):
    """Runs request payloads; replies go to a bytearray."""

    def __init__(self, first_id=1, codec_library=""):
        self.registry = Registry(first_id)
        self.encoder = Encoder(self.registry)
        # The C++ codec when its library loads (the same bytes, faster).
        lib = native_codec.load(codec_library)
        self.native = native_codec.NativeCodec(lib, self.registry) if lib else None
        if self.native:
            self.encoder = self.native

    def target(self, ref, names, keep):
        """The registered object `ref`, then getattr along names but the last `keep`."""
        obj = self.registry.objects.get(int(ref), _MISSING)
        if obj is _MISSING:
            raise BridgeFailure("ESEM_RELEASED", "this Python object was released; it cannot be used any more")
        for i in range(len(names) - keep):
            obj = getattr(obj, names[i])
        return obj

    def run(self, buf, pos, end, out):
        """Runs the request payload buf[pos:end]; appends its reply to out.
        A payload too short for its header ends the stream (MalformedStream);
        values that do not decode within it answer ESEM_PROTOCOL."""
        if end - pos < _REQUEST.size:
            raise MalformedStream("a %d-byte request is shorter than its %d-byte header" % (end - pos, _REQUEST.size))
        op, seq, ref = _REQUEST.unpack_from(buf, pos)
        start = len(out)
        try:
            values = self.decode(buf, pos + _REQUEST.size, end)
            n = len(values)
            if op == OP_CALL or op == OP_CALL_PROXY:
                _need(op, n, 2)
                fn = self.target(ref, values[0], 0)
                args = values[1]
                kwargs = values[2] if n > 2 else None
                if fn is _EVAL or fn is _EXEC:
                    args, kwargs = ops.fresh_globals_for(fn, args, kwargs)
                result = fn(*args, **kwargs) if kwargs else fn(*args)
            elif op == OP_GET_ATTR:
                _need(op, n, 1)
                result = self.target(ref, values[0], 0)
            elif op == OP_SET_ATTR:
                names = values[0] if n else None
                if not names or n < 2:
                    raise BridgeFailure("ESEM_BAD_REQUEST", "setAttr needs an attribute name and a value")
                owner = self.target(ref, names, 1)
                setattr(owner, names[-1], values[1])
                result = None
            elif op == OP_RELEASE:
                self.registry.remove(int(ref))
                result = None
            elif op == OP_IMPORT:
                _need(op, n, 1)
                cwd = values[1] if n > 1 else None
                result = ops.import_module(values[0], cwd or ".")
            elif op == OP_HELPER:
                _need(op, n, 2)
                fn = getattr(ops, values[0])
                args = values[1]
                kwargs = values[2] if n > 2 else None
                result = fn(*args, **kwargs) if kwargs else fn(*args)
            else:
                raise BridgeFailure("ESEM_BAD_REQUEST", "unknown op %d" % op)
            if type(result) is _COROUTINE:
                result = ops.run_coroutine(result)
            if not seq:
                return
            out += _REPLY.pack(0, STATUS_OK, seq)
            self.encoder.encode(result, out, op == OP_CALL_PROXY and result is not None)
        except BridgeFailure as failure:
            if not seq:
                return
            del out[start:]
            self.reply(out, STATUS_BRIDGE_ERROR, seq, (failure.code, failure.message))
            return
        except BaseException as exc:  # the user's code may raise anything, SystemExit included
            if not seq:
                return
            del out[start:]
            self.reply(out, STATUS_PYTHON_ERROR, seq, ops.format_exception(exc))
            return
        _U32.pack_into(out, start, len(out) - start - 4)

    def decode(self, buf, pos, end):
        """Every value of buf[pos:end]; ESEM_PROTOCOL when they do not
        decode or run past the frame's end (into the next frame)."""
        try:
            if self.native:
                return self.native.decode(buf, pos, end)  # never reads past end
            return self._decode_py(buf, pos, end)
        except BridgeFailure as failure:
            if failure.code == "ESEM_INTERNAL" and failure.message.startswith("malformed"):
                raise BridgeFailure("ESEM_PROTOCOL", "malformed request: " + failure.message)
            raise  # the codec's own report (a released proxy)

    def _decode_py(self, buf, pos, end):
        decoder = Decoder(buf, self.registry, pos, end)  # nothing past the frame is read
        values = []
        try:
            while decoder.pos < end:
                values.append(decoder.value())
        except BridgeFailure:
            raise
        except Exception as exc:
            raise BridgeFailure("ESEM_PROTOCOL", "malformed request: %s at byte %d" % (type(exc).__name__, decoder.pos - pos))
        if decoder.pos > end:
            raise BridgeFailure("ESEM_PROTOCOL", "malformed request: a value runs %d bytes past the frame's end" % (decoder.pos - end))
        return values

    def reply(self, out, status, seq, values):
        start = len(out)
        out += _REPLY.pack(0, status, seq)
        encode = self.encoder.encode
        for v in values:
            encode(v, out)
        _U32.pack_into(out, start, len(out) - start - 4)


class MalformedStream(Exception):
    """The bytes from Node cannot be frames any more: the worker says why and exits."""


def _need(op, n, count):
    if n < count:
        raise BridgeFailure("ESEM_PROTOCOL", "malformed request: op %d needs %d values, the frame has %d" % (op, count, n))


class _Replies:
    """The replies made so far and not yet sent. The main thread adds each
    frame's reply whole; while a batch of frames runs, a flusher thread
    sends what is there every FLUSH_SECONDS (a slow call must not hold the
    replies of the calls before it). One lock orders appends and sends."""

    FLUSH_SECONDS = 0.001

    def __init__(self, sock):
        self.sock = sock
        self.data = bytearray()
        self.lock = threading.Lock()
        self.busy = threading.Event()  # set while a batch of several frames runs
        self.thread = None

    def add(self, reply):
        with self.lock:
            self.data += reply

    def send(self):
        with self.lock:
            if self.data:
                _send_all(self.sock, self.data)
                self.data = bytearray()

    def batch_started(self):
        if self.thread is None:
            self.thread = threading.Thread(target=self._flush, name="esem-bridge-flusher", daemon=True)
            self.thread.start()
        self.busy.set()

    def batch_ended(self):
        self.busy.clear()
        self.send()

    def _flush(self):
        sleep = time.sleep
        while True:
            self.busy.wait()
            sleep(self.FLUSH_SECONDS)
            try:
                self.send()
            except OSError:  # Node is gone: the main thread finds out too
                return


def _send_all(sock, data):
    """Writes all of data, however many send() calls that takes."""
    try:
        sent = sock.send(data)
    except BlockingIOError:  # the fd came to us non-blocking
        sent = 0
    if sent == len(data):
        return
    view = memoryview(data)
    total = len(view)
    while sent < total:
        try:
            sent += sock.send(view[sent:])
        except BlockingIOError:
            select.select([], [sock], [])
    view.release()


def _recv_blocking(sock, size):
    while True:
        try:
            return sock.recv(size)
        except BlockingIOError:  # the fd came to us non-blocking
            select.select([sock], [], [])


def _fill(sock, pending, need):
    """pending (a bytearray) grown to `need` bytes read from sock, in place
    (one buffer for a large frame, no chunk list). None at EOF."""
    have = len(pending)
    pending.extend(bytes(need - have))
    view = memoryview(pending)
    try:
        while have < need:
            try:
                n = sock.recv_into(view[have:])
            except BlockingIOError:
                select.select([sock], [], [])
                continue
            if n == 0:
                return None
            have += n
    finally:
        view.release()
    return pending


def _say(message):
    try:
        sys.stderr.write(message + "\n")
    except BaseException:  # a closed or replaced stderr
        try:
            os.write(2, (message + "\n").encode("utf-8", "replace"))
        except OSError:
            pass


def _exit(code=0):
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except BaseException:
            pass
    # As the native mode's interpreter, this one is never finalized: no
    # wait for the user's threads, no atexit handlers.
    os._exit(code)


def main(fd=3, first_id=1, codec_library=""):
    _prepare_sys_path()
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is Node's to handle
    except (ValueError, OSError, AttributeError):
        pass
    sock = socket.socket(fileno=fd)
    worker = Worker(int(first_id), codec_library)
    code = 0
    try:
        _serve(sock, worker)
    except (ConnectionError, EOFError):  # Node is gone
        pass
    except (MalformedStream, MemoryError) as exc:
        what = str(exc) if isinstance(exc, MalformedStream) else "a frame too large to hold in memory"
        _say("esem-bridge worker: malformed frame from Node (%s); exiting." % what)
        code = EXIT_MALFORMED
    _exit(code)


def _serve(sock, worker):
    recv = sock.recv
    dontwait = getattr(socket, "MSG_DONTWAIT", 0)
    perf_counter = time.perf_counter
    run = worker.run
    u32_from = _U32.unpack_from
    read_size = READ_SIZE

    out = bytearray()
    worker.reply(out, STATUS_READY, 0, ("%d.%d.%d" % sys.version_info[:3], sys.executable or ""))
    _send_all(sock, out)
    replies = _Replies(sock)

    pending = bytearray()  # the start of a frame not wholly read yet
    need = 4  # bytes `pending` must hold before a frame may be complete
    poll = False
    while True:
        data = None
        if poll and dontwait:
            # The next request often follows at once: a short spin beats
            # going to sleep in recv() and being woken.
            deadline = perf_counter() + POLL_SECONDS
            while True:
                try:
                    data = recv(read_size, dontwait)
                    break
                except BlockingIOError:
                    if perf_counter() >= deadline:
                        break
        if data is None:
            data = _recv_blocking(sock, read_size)
        if not data:
            return
        if pending:
            pending += data
            if len(pending) < need:
                if len(pending) >= 4 and need - len(pending) > read_size:
                    if _fill(sock, pending, need) is None:
                        return
                else:
                    poll = False
                    continue
            buf = bytes(pending)
        else:
            buf = data
        size = len(buf)
        off = 0
        out = bytearray()
        several = False
        while size - off >= 4:
            end = off + 4 + u32_from(buf, off)[0]
            if end > size:
                break
            if out:
                # A second frame in this read: from now on the replies made
                # so far go out even while a later frame runs.
                if not several:
                    several = True
                    replies.batch_started()
                replies.add(out)
                out = bytearray()
            run(buf, off + 4, end, out)
            off = end
        if off < size:
            pending = bytearray(buf[off:])
            need = 4 if len(pending) < 4 else 4 + u32_from(pending, 0)[0]
        elif pending:
            pending = bytearray()
            need = 4
        if several:
            replies.add(out)
            replies.batch_ended()
        elif out:
            _send_all(sock, out)
        poll = True
