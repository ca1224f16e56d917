"""The subprocess mode's worker: runs the frames of docs/protocol.md that
Node sends over a socket (fd 3) and answers them. Started by
src/subprocess-worker.ts as

    python3 -u -c "...; w.main(3, first_id, codec, threads)" <python dir> <first id> <codec library> <threads>

with stdout and stderr the user's; <first id> is where its registry's ids
start (the bridge's ids go on across workers); <threads> is createBridge's
`threads` (the main thread and up to threads - 1 spares: pool.py).

Threads (docs/concurrency.md#the-subprocess-worker):

- The main thread runs the call frames, in order, and reads the socket
  whenever it is not running one. The replies to the frames of one read go
  out together; while a read's frames run, a flusher thread sends the
  replies already made every millisecond, so a fast call never waits for a
  slow one after it.
- Whoever waits for something reads the socket, one at a time (the reader
  lock, `_Link.rlock`): a Python thread waiting for a JS callback's reply
  reads it itself when the main thread is busy in a frame (joining that
  thread, say). Call frames read by another thread are queued for the
  main thread.
- A watcher thread reads for the main thread while one frame has run
  longer than a tick (WATCH_SECONDS): a Cancel for that frame is seen at
  once, and so are callback replies for other threads.
- The bridge's asyncio loop (aio.py) runs the coroutines calls return;
  their replies are written from its thread.
- Every write takes the write lock (`_Link.wlock`); every encode and
  decode takes the codec lock (`Worker.codec_lock`).
"""

# The C modules under `signal` and `socket`: what the worker uses of them is
# theirs, and their Python wrappers (enums, selectors) cost ~3 ms of a start.
import _signal as signal
import _socket as socket
import collections
import gc
import itertools
import os
import select
import struct
import sys
import threading
import time
import types

from . import aio, native_codec, ops
from .callback import CallbackGone, CallbackTable, JSError, JsFunction
from .cancel import CallCancelled
from .failure import BridgeFailure
from .registry import Registry

OP_CALL = 1
OP_GET_ATTR = 2
OP_SET_ATTR = 3
OP_IMPORT = 4
OP_RELEASE = 5
OP_HELPER = 6
OP_CALL_PROXY = 7  # a Call whose result is always sent as a proxy (opts({ result: "proxy" }))
OP_CALLBACK_REPLY = 8  # the outcome of a Callback: ref 1.0 ok (the value), 0.0 thrown (name, message, stack)
OP_CANCEL = 9  # cancel call `seq`: skipped when still queued, CallCancelled raised in it when running

STATUS_OK = 0
STATUS_PYTHON_ERROR = 1
STATUS_BRIDGE_ERROR = 2
STATUS_READY = 3
STATUS_CALLBACK = 4  # Python calls a JS function: seq = the callback call's id; Float fn id, List args, Dict kwargs or None
STATUS_RELEASE_CALLBACK = 5  # Python let go of a JS function: seq 0; Float fn id, Int count

EXIT_MALFORMED = 3  # the worker's exit code after a malformed frame from Node

CANCEL_SIGNAL = getattr(signal, "SIGUSR1", None)  # wakes the main thread to raise CallCancelled in a running call


def _poll_seconds():
    """ESEM_SPIN_US, as on the JS side (default 100 µs)."""
    try:
        us = float(os.environ.get("ESEM_SPIN_US", "100"))
    except ValueError:
        us = 100.0
    return max(us, 0.0) / 1e6


POLL_SECONDS = _poll_seconds()  # after a batch, poll this long before blocking: the next call often follows at once
READ_SIZE = 1 << 16
# An idle worker waits this long before it gives back the large blocks it keeps
# (native/py_large_blocks.h): a kept block nobody took for a second goes.
IDLE_TRIM_SECONDS = 1.05
# The socket's send buffer for replies (the default is ~208 KiB): an echo
# of 10 000 records, a 330 KiB reply, went 9.3 -> 8.8 ms warm.
SEND_BUFFER = 1 << 20
WATCH_SECONDS = float(os.environ.get("ESEM_WATCH_S", "0.005"))  # the watcher's tick: a frame running longer than this has the socket read for it
PARK_TICKS = 20  # the watcher sleeps until the next frame after this many idle ticks

_REQUEST = struct.Struct("<BId")  # op, seq, ref
_REPLY = struct.Struct("<IBI")  # payload length, status, seq
_RELEASE_FRAME = struct.Struct("<IBIBdBq")  # length, status 5, seq 0, Float id, Int count
_CALLBACK_HEAD = struct.Struct("<IBIBd")  # length, status 4, call id, Float fn id
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
    """Runs request payloads; replies go to a bytearray. `link` (set by
    serve) is the socket: callbacks and coroutine replies use it."""

    def __init__(self, first_id=1, codec_library=""):
        self.registry = Registry(first_id)
        # The callback table first: the C++ codec reads registry.callbacks
        # when its context is made.
        self.table = CallbackTable(self._invoke, self._release)
        self.registry.callbacks = self.table
        self.codec_lock = threading.RLock()
        self.link = None
        self.main_ident = threading.get_ident()
        self.cancelled = set()  # seqs Node cancelled that have not ended (or not come) yet
        self.user = 0  # the seq of the main thread's frame while it runs the user's code (cancellable), else 0
        self.coros = {}  # seq -> the concurrent future of its coroutine
        self._call_ids = itertools.count(1)
        # The C++ codec when its library loads (the same bytes, faster).
        lib = native_codec.load(codec_library)
        self.native = native_codec.NativeCodec(lib, self.registry) if lib else None
        if self.native and not self._native_writes_functions():
            self.native = None  # an esem_wire.so from before tag 17: codec.py has it
        if self.native:
            self.encoder = self.native
        else:
            from .codec import Decoder, Encoder  # only a worker without the C++ codec loads codec.py

            self._decoder = Decoder
            self.encoder = Encoder(self.registry)
        # decode() without its translation of failures: the C++ reader, or codec.py's.
        self.read_values = self.native.decode if self.native else self._decode_py
        # One result's whole reply frame: the C++ codec's reply(), else _reply_py.
        self.reply_one = self.native.reply if self.native else self._reply_py

    def _native_writes_functions(self):
        probe = JsFunction(1, self.table)  # not in the table: dropping it tells nobody
        out = bytearray()
        mark = self.registry.next_id
        try:
            self.native.encode(probe, out)
        except BaseException:
            return False
        finally:
            self.registry.remove_from(mark)
        return len(out) == 9 and out[0] == 17

    def target(self, ref, names, keep):
        """The registered object `ref`, then getattr along names but the last `keep`."""
        obj = self.registry.objects.get(int(ref), _MISSING)
        if obj is _MISSING:
            raise BridgeFailure("ESEM_RELEASED", "this Python object was released; it cannot be used any more")
        n = len(names) - keep
        if n == 1:
            return getattr(obj, names[0])  # the usual call: mod.fn(...)
        for i in range(n):
            obj = getattr(obj, names[i])
        return obj

    def answer(self, send, seq, op, result):
        """A frame's result: a coroutine goes to the loop (answered from
        there); else the reply is encoded and sent under the codec lock, so
        the socket carries replies in the order they were encoded."""
        if type(result) is _COROUTINE:
            self.start_coroutine(result, seq, op == OP_CALL_PROXY)
            return
        if not seq:
            return
        with self.codec_lock:
            send(self.reply_one(STATUS_OK, seq, result, op == OP_CALL_PROXY and result is not None))

    def _reply_py(self, status, seq, value, as_ref):
        """reply_one() without the C++ codec: the frame's header packed here
        around codec.py's bytes."""
        out = bytearray(_REPLY.pack(0, status, seq))
        self.encoder.encode(value, out, as_ref)
        _U32.pack_into(out, 0, len(out) - 4)
        return out

    def _run_paused(self, buf, pos, end, send):
        """run() with Python's cyclic collector paused outside the user's
        code, for a large frame: the decoded arguments are fresh trees (no
        cycles), and the bridge's own code between decoding and the call,
        and between the call and the reply, would otherwise start a
        collection of all of them (an echo of 10 000 records: ~1 ms of
        ~11). The user's code runs with the collector as it was; if it
        turns the collector off, it stays off."""
        gc.disable()
        resume = [True]  # whether to turn it back on at the end
        try:
            self.run(buf, pos, end, send, resume)
        finally:
            if resume[0]:
                gc.enable()

    def run(self, buf, pos, end, send, resume=None):
        """Runs the request payload buf[pos:end] on the main thread; its
        reply goes to send(bytearray), called holding the codec lock (none
        for a coroutine: its reply is written when it ends). A payload too
        short for its header ends the stream (MalformedStream); values that
        do not decode within it answer ESEM_PROTOCOL.

        Replies are encoded and handed to send in one critical section: the
        order of the bytes on the socket is the order of the encodes (a
        reply that describes a type first reaches Node before any that
        uses the description: the codec commits a description at once).

        A frame of _PAUSE_FROM bytes or more runs through _run_paused
        (resume: its collector state, else None)."""
        if resume is None and end - pos >= _PAUSE_FROM and gc.isenabled():
            return self._run_paused(buf, pos, end, send)
        if end - pos < _REQUEST.size:
            raise MalformedStream("a %d-byte request is shorter than its %d-byte header" % (end - pos, _REQUEST.size))
        op, seq, ref = _REQUEST.unpack_from(buf, pos)
        cancelled = self.cancelled
        outer = self.user  # a frame run while another waits for a callback (re-entrant)
        try:
            with self.codec_lock:
                try:
                    values = self.read_values(buf, pos + _REQUEST.size, end)  # never reads past end
                except BridgeFailure as failure:
                    raise _request_failure(failure)
            n = len(values)
            # From here on, a Cancel raises CallCancelled in this frame.
            self.user = seq
            if cancelled and seq in cancelled:
                raise BridgeFailure("ESEM_ABORTED", "the call was cancelled before it ran")
            if op == OP_CALL or op == OP_CALL_PROXY:
                _need(op, n, 2)
                fn = self.target(ref, values[0], 0)
                args = values[1]
                kwargs = values[2] if n > 2 else None
                if fn is _EVAL or fn is _EXEC:
                    args, kwargs = ops.fresh_globals_for(fn, args, kwargs)
                if resume is None:
                    result = fn(*args, **kwargs) if kwargs else fn(*args)
                else:
                    result = _call_collected(fn, args, kwargs, resume)
            elif op == OP_GET_ATTR:
                _need(op, n, 1)
                result = self.target(ref, values[0], 0)
            elif op == OP_SET_ATTR:
                names = values[0] if n else None
                if not names or n < 2:
                    raise BridgeFailure("ESEM_BAD_REQUEST", "setAttr needs an attribute name and a value")
                owner = self.target(ref, names, 1)
                if resume is None:
                    setattr(owner, names[-1], values[1])
                else:
                    _call_collected(setattr, (owner, names[-1], values[1]), None, resume)  # a property's setter is the user's code
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
                if resume is None:
                    result = fn(*args, **kwargs) if kwargs else fn(*args)
                else:
                    result = _call_collected(fn, args, kwargs, resume)  # helpers run the user's code (to_plain, eval)
            else:
                raise BridgeFailure("ESEM_BAD_REQUEST", "unknown op %d" % op)
            self.user = outer
            if cancelled:
                cancelled.discard(seq)
            self.answer(send, seq, op, result)
        except BridgeFailure as failure:
            self.user = outer  # first: nothing may raise CallCancelled past this frame
            if cancelled:
                cancelled.discard(seq)
            if not seq:
                return
            self.reply(send, STATUS_BRIDGE_ERROR, seq, (failure.code, failure.message))
            return
        except BaseException as exc:  # the user's code may raise anything, SystemExit included
            self.user = outer
            if cancelled:
                cancelled.discard(seq)
            if not seq:
                return
            self.reply_error(send, seq, exc)
            return

    def run_spare(self, buf, pos, end, spare, send):
        """run() on a spare thread of the pool (pool.py): the same ops, the
        frame's seq in spare.user (what a Cancel looks for) instead of
        self.user. Slow frames only: no need to be as lean as run()."""
        op, seq, ref = _REQUEST.unpack_from(buf, pos)
        cancelled = self.cancelled
        outer = spare.user
        try:
            with self.codec_lock:
                values = self.decode(buf, pos + _REQUEST.size, end)
            spare.set_user(seq)
            if seq in cancelled:
                raise BridgeFailure("ESEM_ABORTED", "the call was cancelled before it ran")
            result = self._dispatch(op, ref, values)
            spare.set_user(outer)
            cancelled.discard(seq)
            self.answer(send, seq, op, result)
        except BridgeFailure as failure:
            spare.set_user(outer)
            cancelled.discard(seq)
            if seq:
                self.reply(send, STATUS_BRIDGE_ERROR, seq, (failure.code, failure.message))
        except BaseException as exc:
            spare.set_user(outer)
            cancelled.discard(seq)
            if seq:
                self.reply_error(send, seq, exc)

    def _dispatch(self, op, ref, values):
        """The result of one frame's op (run() inlines the same for speed)."""
        n = len(values)
        if op == OP_CALL or op == OP_CALL_PROXY:
            _need(op, n, 2)
            fn = self.target(ref, values[0], 0)
            args = values[1]
            kwargs = values[2] if n > 2 else None
            if fn is _EVAL or fn is _EXEC:
                args, kwargs = ops.fresh_globals_for(fn, args, kwargs)
            return fn(*args, **kwargs) if kwargs else fn(*args)
        if op == OP_GET_ATTR:
            _need(op, n, 1)
            return self.target(ref, values[0], 0)
        if op == OP_SET_ATTR:
            names = values[0] if n else None
            if not names or n < 2:
                raise BridgeFailure("ESEM_BAD_REQUEST", "setAttr needs an attribute name and a value")
            owner = self.target(ref, names, 1)
            setattr(owner, names[-1], values[1])
            return None
        if op == OP_RELEASE:
            self.registry.remove(int(ref))
            return None
        if op == OP_IMPORT:
            _need(op, n, 1)
            cwd = values[1] if n > 1 else None
            return ops.import_module(values[0], cwd or ".")
        if op == OP_HELPER:
            _need(op, n, 2)
            fn = getattr(ops, values[0])
            args = values[1]
            kwargs = values[2] if n > 2 else None
            return fn(*args, **kwargs) if kwargs else fn(*args)
        raise BridgeFailure("ESEM_BAD_REQUEST", "unknown op %d" % op)

    def decode(self, buf, pos, end):
        """Every value of buf[pos:end]; ESEM_PROTOCOL when they do not
        decode or run past the frame's end (into the next frame)."""
        try:
            return self.read_values(buf, pos, end)  # never reads past end
        except BridgeFailure as failure:
            raise _request_failure(failure)

    def _decode_py(self, buf, pos, end):
        decoder = self._decoder(buf, self.registry, pos, end)  # nothing past the frame is read
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

    def reply_error(self, send, seq, exc):
        """Replies with a Python exception: type, message, traceback and its
        chain with the exception objects (ops.format_exception). An object
        that cannot be sent (its type's lookups raise) goes as None: the
        error itself always reaches JS. (A failed encode sends nothing.)"""
        type_name, message, tb, links = ops.format_exception(exc)
        try:
            self.reply(send, STATUS_PYTHON_ERROR, seq, (type_name, message, tb, links))
        except BaseException:
            self.reply(send, STATUS_PYTHON_ERROR, seq, (type_name, message, tb, [link[:3] + (None,) for link in links]))

    def reply(self, send, status, seq, values):
        """Encodes a reply of these values and gives it to send(bytearray),
        both holding the codec lock (see run)."""
        out = bytearray(_REPLY.pack(0, status, seq))
        with self.codec_lock:
            encode = self.encoder.encode
            for v in values:
                encode(v, out)
            _U32.pack_into(out, 0, len(out) - 4)
            send(out)

    # --- coroutines (aio.py) -----------------------------------------------

    def start_coroutine(self, coro, seq, as_ref):
        """Runs an `async def` call's coroutine on the bridge's loop; its
        reply is written from the loop's thread when it ends."""
        coros = self.coros

        def send(out):
            link = self.link
            if link is not None:
                try:
                    link.send_reply(out)
                except OSError:  # Node is gone: the main thread finds out too
                    pass

        def done(future):
            coros.pop(seq, None)
            if not seq:
                return
            try:
                if future.cancelled():
                    raise BridgeFailure("ESEM_ABORTED", "the coroutine was cancelled")
                result = future.result()
                out = bytearray(_REPLY.pack(0, STATUS_OK, seq))
                with self.codec_lock:
                    self.encoder.encode(result, out, as_ref and result is not None)
                    _U32.pack_into(out, 0, len(out) - 4)
                    send(out)
            except BridgeFailure as failure:
                self.reply(send, STATUS_BRIDGE_ERROR, seq, (failure.code, failure.message))
            except BaseException as exc:
                self.reply_error(send, seq, exc)

        future = aio.submit(coro, done)
        if seq:
            coros[seq] = future
            if future.done():  # done() ran before it was recorded
                coros.pop(seq, None)

    # --- cancellation --------------------------------------------------------

    def cancel(self, seq):
        """Node cancelled call `seq` (op 9), read by any thread: a coroutine
        is cancelled; a queued frame is skipped when its turn comes; the
        main thread's running frame gets CallCancelled at its next bytecode
        (through CANCEL_SIGNAL, which also ends a time.sleep)."""
        future = self.coros.get(seq)
        if future is not None:
            future.cancel()
            return
        self.cancelled.add(seq)
        if self.user == seq and threading.get_ident() != self.main_ident:
            self._interrupt_main()
        link = self.link
        if link is not None and link.pool is not None:
            link.pool.cancel(seq)  # a frame a spare thread runs: SetAsyncExc
        if link is not None and link.waiters:
            link.notify()

    def _interrupt_main(self):
        handler = self._cancel_handler
        if handler is not None and signal.getsignal(CANCEL_SIGNAL) is handler:
            try:
                signal.pthread_kill(self.main_ident, CANCEL_SIGNAL)
                return
            except (OSError, ValueError, AttributeError):
                pass
        # The user's code took the signal: raise at the next bytecode instead.
        import ctypes

        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.main_ident), ctypes.py_object(CallCancelled))

    def _on_cancel_signal(self, signum, frame):
        seq = self.user
        if seq and seq in self.cancelled:
            raise CallCancelled("the call was cancelled from JS")

    _cancel_handler = None

    def install_cancel_signal(self):
        """CANCEL_SIGNAL's handler (main thread), unless the user's code has one."""
        if CANCEL_SIGNAL is None:
            return
        handler = self._on_cancel_signal  # one bound method: getsignal() gives back this object
        try:
            if signal.getsignal(CANCEL_SIGNAL) in (signal.SIG_DFL, None):
                signal.signal(CANCEL_SIGNAL, handler)
                self._cancel_handler = handler
        except (ValueError, OSError, AttributeError):
            pass

    def raise_if_cancelled(self, seq):
        if seq and seq in self.cancelled:
            raise CallCancelled("the call was cancelled from JS")

    # --- callbacks (callback.py's CallbackTable) ---------------------------

    def _invoke(self, fn_id, args, kwargs):
        """Runs JS function `fn_id` and waits for its outcome, on any thread."""
        link = self.link
        if link is None or link.eof:
            raise CallbackGone("the JS side of this function is gone (Node closed the connection)")
        call_id = next(self._call_ids) & 0xFFFFFFFF or next(self._call_ids) & 0xFFFFFFFF
        frame = bytearray(_CALLBACK_HEAD.pack(0, STATUS_CALLBACK, call_id, 4, float(fn_id)))
        main = threading.get_ident() == self.main_ident
        spare = None if main else link.pool_spare()
        if main:
            outer = self.user
            self.user = 0  # the signal must not raise while this thread reads the socket
        elif spare is not None:
            outer = spare.set_user(0)  # no SetAsyncExc while this thread reads the socket
        else:
            outer = 0
        try:
            with self.codec_lock:
                # One encode, so that args and kwargs share the frame's key table:
                # a 2-item List whose 5-byte head is dropped.
                body = self.encoder.encode((list(args), kwargs if kwargs else None))
                frame += memoryview(body)[5:]
                _U32.pack_into(frame, 0, len(frame) - 4)
                # Sent in the same critical section (type descriptions: see
                # run), after the replies made so far.
                link.send_reply(frame)
            buf, pos, end = link.wait_reply(call_id, main, outer, spare)
        finally:
            if main:
                self.user = outer
            elif spare is not None:
                spare.set_user(outer)
        _, _, ok = _REQUEST.unpack_from(buf, pos)
        with self.codec_lock:
            values = self.decode(buf, pos + _REQUEST.size, end)
        self.raise_if_cancelled(outer)
        if ok == 1.0:
            return values[0] if values else None
        name, message, stack = (list(values) + ["Error", "", ""])[:3]
        raise JSError(message, name, stack)

    def _release(self, fn_id, count):
        link = self.link
        if link is not None and not link.eof:
            link.post(_RELEASE_FRAME.pack(_RELEASE_FRAME.size - 4, STATUS_RELEASE_CALLBACK, 0, 4, float(fn_id), 2, count))


class MalformedStream(Exception):
    """The bytes from Node cannot be frames any more: the worker says why and exits."""


# Frames of at least this many bytes pause the collector outside the user's
# code (Worker.run); the C reader pauses it while it reads from the same size.
_PAUSE_FROM = 1 << 16


def _call_collected(fn, args, kwargs, resume):
    """fn(*args, **kwargs) with the collector on, paused again after it
    unless the user's code turned it off (then resume[0] is False: it stays off)."""
    gc.enable()
    try:
        return fn(*args, **kwargs) if kwargs else fn(*args)
    finally:
        if gc.isenabled():
            gc.disable()
        else:
            resume[0] = False


def _request_failure(failure):
    """A codec's BridgeFailure while decoding a request: ESEM_PROTOCOL for
    malformed bytes, else the codec's own report (a released proxy)."""
    if failure.code == "ESEM_INTERNAL" and failure.message.startswith("malformed"):
        return BridgeFailure("ESEM_PROTOCOL", "malformed request: " + failure.message)
    return failure


def _need(op, n, count):
    if n < count:
        raise BridgeFailure("ESEM_PROTOCOL", "malformed request: op %d needs %d values, the frame has %d" % (op, count, n))


class _Replies:
    """The replies made so far and not yet sent, while the main thread runs
    a batch of frames: it adds each frame's reply whole; a flusher thread
    sends what is there every FLUSH_SECONDS (a slow call must not hold the
    replies of the calls before it). The link's write lock orders appends
    and sends."""

    FLUSH_SECONDS = 0.001

    def __init__(self, link):
        self.link = link
        self.data = bytearray()
        self.lock = link.wlock
        self.busy = threading.Event()  # set while a batch of several frames runs
        self.thread = None

    def add(self, reply):
        with self.lock:
            self.data += reply

    def send(self):
        with self.lock:
            if self.data:
                _send_all(self.link.sock, self.data)
                self.data = bytearray()
        if self.link.posted and not self.link.holding:
            self.link.drain_posted()

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


class _Link(object):
    """The socket to Node, shared by the worker's threads: writes under
    `wlock`; reads by one thread at a time, under `rlock` (see the module
    docstring). Request frames read go to `queue` for the main thread;
    callback replies to `replies` by call id; Cancels to Worker.cancel."""

    def __init__(self, sock, worker, threads=1):
        self.sock = sock
        self.worker = worker
        self.threads = threads  # createBridge's `threads`: the main thread and up to threads - 1 spares
        self.pool = None  # pool.Pool, made when a frame first waits while the main thread runs one
        self.current = None  # the queue item the main thread's serve loop runs (pool.py reads its ref)
        self.main_tid = threading.get_native_id() if hasattr(threading, "get_native_id") else 0  # made on the main thread
        self.main_frames = []  # the items the main thread runs through run_queued (nested ones on top)
        self.wlock = threading.Lock()
        self.posted = collections.deque()  # frames from threads that must not wait for wlock (a weakref callback)
        self.rlock = threading.Lock()
        self.cond = threading.Condition(threading.Lock())
        self.waiters = 0  # threads waiting on cond
        self.queue = collections.deque()  # request frames, (buf, pos, end, time queued) of each payload
        self.replies = {}  # callback call id -> (buf, pos, end) of its CallbackReply payload
        self.partial = bytearray()  # the start of a frame not wholly read yet
        self.need = 4  # bytes `partial` must hold before a frame may be complete
        self.eof = False
        self.malformed = None  # a MalformedStream another thread met
        self.handover = False  # the main thread wants to read: other readers stop
        self.trim = None  # esem_wire.trim_large_blocks, when the large-block cache is installed
        self.batch = _Replies(self)
        self.holding = False  # the main thread runs a frame whose reply is not sent yet
        # A pipe that wakes a reader blocked in select() (the main thread
        # wants to read): made when a thread other than the main one first
        # reads, so a worker that never needs it holds no descriptor more.
        self.wake_r = self.wake_w = None
        # The main thread's state, for the watcher.
        self.busy = False  # running a frame
        self.epoch = 0  # counts the main thread's frames and reads
        self.parked = False
        self.unpark = threading.Event()
        self.watcher = None

    # --- writing ---------------------------------------------------------

    def write(self, data):
        with self.wlock:
            _send_all(self.sock, data)
        if self.posted and not self.holding:
            self.drain_posted()

    def post(self, frame):
        """Writes frame without waiting for the write lock (from a weakref
        callback, which may run while this thread holds it): queued, and
        sent by whoever holds the lock next. While the main thread has a
        reply made and not sent (`holding`), it waits for that reply: a
        ReleaseCallback must never overtake a reply that sends the same JS
        function back."""
        self.posted.append(frame)
        if not self.holding:
            self.drain_posted()

    def drain_posted(self):
        posted = self.posted
        while posted and self.wlock.acquire(False):
            try:
                chunks = []
                while posted:
                    chunks.append(posted.popleft())
                try:
                    _send_all(self.sock, b"".join(chunks))
                except OSError:
                    return
            finally:
                self.wlock.release()

    def flush_batch(self):
        if self.batch.data:
            self.batch.send()

    def send_reply(self, out):
        """Writes a reply (any thread, holding the codec lock: see
        Worker.run) after the batched replies made before it."""
        batch = self.batch
        with self.wlock:
            if batch.data:
                _send_all(self.sock, batch.data)
                batch.data = bytearray()
            _send_all(self.sock, out)
        if self.posted and not self.holding:
            self.drain_posted()

    def pool_spare(self):
        """This thread's pool.Spare, or None (the main thread, the user's threads)."""
        pool = self.pool
        return pool.spare_of_this_thread() if pool is not None else None

    def kick(self):
        """Frames wait while the main thread runs one: the pool (made now)
        has a spare watch them."""
        pool = self.pool
        if pool is not None:
            if pool.watching or pool.kicked or (not pool.idle and len(pool.spares) >= pool.max_spares):
                return  # a spare watches already, or is woken and will look, or none is free
        else:
            if self.threads <= 1:
                return
            from .pool import Pool

            pool = self.pool = Pool(self, self.worker, self.threads)
        pool.kick()

    # --- reading ---------------------------------------------------------

    def notify(self):
        with self.cond:
            self.cond.notify_all()

    def split(self, data):
        """Takes a chunk read from the socket (under rlock): queues its
        whole request frames, delivers callback replies and cancels, keeps
        a cut frame's start. False at EOF."""
        pending = self.partial
        if pending:
            pending += data
            if len(pending) < self.need:
                if len(pending) >= 4 and self.need - len(pending) > READ_SIZE:
                    pending = _fill(self.sock, pending, self.need)
                    if pending is None:
                        return False
                else:
                    return True
            # `pending` is never written again (partial is a new bytearray
            # below), so the C++ codec may read it as it is; codec.py needs
            # bytes (its slices are values).
            buf = pending if self.worker.native is not None else bytes(pending)
        else:
            buf = data
        u32_from = _U32.unpack_from
        size = len(buf)
        off = 0
        queue = self.queue
        queued = False
        now = time.perf_counter()
        while size - off >= 4:
            end = off + 4 + u32_from(buf, off)[0]
            if end > size:
                break
            pos = off + 4
            op = buf[pos] if end - pos >= _REQUEST.size else 0
            if op == OP_CALLBACK_REPLY:
                self.replies[u32_from(buf, pos + 1)[0]] = (buf, pos, end)
                if self.waiters:
                    self.notify()
            elif op == OP_CANCEL:
                self.worker.cancel(u32_from(buf, pos + 1)[0])
            else:
                queue.append((buf, pos, end, now))
                queued = True
            off = end
        if off < size:
            self.partial = rest = bytearray(buf[off:])
            self.need = 4 if len(rest) < 4 else 4 + u32_from(rest, 0)[0]
        elif pending:
            self.partial = bytearray()
            self.need = 4
        if queued:
            if self.waiters:
                self.notify()
            if self.busy and self.threads > 1:
                self.kick()  # read by another thread while the main one runs a frame
        return True

    def recv_idle(self, sock, size):
        """The blocking recv of the main thread with nothing to run. While
        large blocks are kept (native/py_large_blocks.h), it first waits
        IDLE_TRIM_SECONDS for data; if none came, they go back."""
        trim = self.trim
        if trim is not None and trim() and not _readable(sock, IDLE_TRIM_SECONDS):
            trim()
        return _recv_blocking(sock, size)

    def read_main(self, poll):
        """One read by the main thread (holding rlock): a short spin first
        when poll, then a blocking recv. False at EOF."""
        sock = self.sock
        self.epoch += 1
        data = None
        if poll and _DONTWAIT:
            # The next request often follows at once: a short spin beats
            # going to sleep in recv() and being woken.
            recv = sock.recv
            deadline = time.perf_counter() + POLL_SECONDS
            while True:
                try:
                    data = recv(READ_SIZE, _DONTWAIT)
                    break
                except BlockingIOError:
                    if time.perf_counter() >= deadline:
                        break
        if data is None:
            data = self.recv_idle(sock, READ_SIZE)
            self.epoch += 1
        if not data or not self.split(data):
            self.set_eof()
            return False
        return True

    def read_other(self, stop):
        """Reads for the main thread (holding rlock, on any other thread)
        until stop(), a handover or EOF."""
        sock = self.sock
        if self.wake_r is None:
            r, w = os.pipe()
            os.set_blocking(r, False)
            os.set_blocking(w, False)
            self.wake_r, self.wake_w = r, w
        wake = self.wake_r
        while not self.handover and not self.eof and not stop():
            try:
                ready = select.select([sock, wake], [], [], 0.05)[0]
            except (OSError, ValueError):
                self.set_eof()
                return
            if wake in ready:
                try:
                    os.read(wake, 4096)
                except OSError:
                    pass
            if sock in ready:
                try:
                    data = sock.recv(READ_SIZE)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                try:
                    more = bool(data) and self.split(data)
                except MalformedStream as exc:  # only run() raises it today; kept for the main thread
                    self.malformed = exc
                    more = False
                if not more:
                    self.set_eof()
                    return

    def wake_reader(self):
        """Ends the select() of the thread reading (it sees `handover`)."""
        if self.wake_w is not None:
            try:
                os.write(self.wake_w, b"\0")
            except OSError:
                pass

    def release_reading(self):
        self.rlock.release()
        if self.waiters:
            self.notify()

    def set_eof(self):
        self.eof = True
        self.notify()
        pool = self.pool
        if pool is not None:
            with pool.cond:
                pool.cond.notify_all()

    def reclaim(self):
        """The main thread wants to read while another thread does: asks it
        to stop and waits. True holding rlock; False when frames were
        queued meanwhile (or at EOF)."""
        with self.cond:
            self.waiters += 1
            try:
                while True:
                    if self.queue or self.eof:
                        self.handover = False
                        return False
                    if self.rlock.acquire(False):
                        self.handover = False
                        return True
                    self.handover = True
                    self.wake_reader()
                    self.cond.wait(0.05)
            finally:
                self.waiters -= 1

    def wait_reply(self, call_id, main, outer, spare=None):
        """The CallbackReply payload of callback call `call_id`: this thread
        reads the socket when nobody else does, and the main thread (or a
        pool's spare thread) runs the call frames that come meanwhile (a
        callback that calls Python again). CallbackGone at EOF;
        CallCancelled when its frame (`outer`) is cancelled meanwhile."""
        replies = self.replies
        worker = self.worker
        while True:
            found = replies.pop(call_id, None)
            if found is not None:
                return found
            if self.eof:
                raise CallbackGone("the JS side of this function is gone (Node closed the connection)")
            worker.raise_if_cancelled(outer)
            if main:
                if self.queue and self.run_queued():
                    continue
            elif spare is not None and self.queue:
                pool = spare.pool
                with pool.lock:
                    item = pool.take(spare, False)
                if item is not None:
                    pool.run(spare, item)  # a nested frame: the callback's own call, say
                    continue
            if (main or not self.handover) and self.rlock.acquire(False):
                try:
                    if main:
                        self.handover = False
                        self.read_main(True)
                    else:
                        self.read_other(lambda: call_id in replies)
                finally:
                    self.release_reading()
                continue
            with self.cond:
                if call_id in replies or self.eof or (main and self.queue and not self.pool):
                    continue
                if main:
                    # The main thread reads fastest: the watcher (or a
                    # waiting thread) stops reading for it.
                    self.handover = True
                    self.wake_reader()
                self.waiters += 1
                try:
                    if self.rlock.locked() or (not main and self.handover):
                        self.cond.wait(0.05)
                finally:
                    self.waiters -= 1
                    if main:
                        self.handover = False

    # --- the main thread ---------------------------------------------------

    def run_queued(self):
        """Runs the queued frames the main thread may take: one frame's reply
        is written at once, several go out together (and every
        millisecond). Once the pool exists, frames are taken under its lock
        in its order (pool.take): a frame on an object another thread runs
        a frame on waits. False when nothing ran."""
        queue = self.queue
        run = self.worker.run
        if self.parked:
            self.parked = False
            self.unpark.set()
        held = self.holding  # a frame's reply not yet made (these run while it waits for a callback)
        batch = self.batch
        several = len(queue) > 1
        ran = False
        if several:
            batch.batch_started()
            send = batch.add
        else:
            send = self.send_reply
        main_frames = self.main_frames
        threads = self.threads
        self.busy = self.holding = True
        ended = None  # the pool's last frame here: its done() comes with the next take (pool.next_main)
        try:
            while queue:
                pool = self.pool
                if pool is None:
                    if len(queue) > 1 and threads > 1:
                        self.kick()  # the pool first: from now on frames are taken in its order
                        continue
                    item = queue.popleft()
                    main_frames.append(item)
                else:
                    item = pool.next_main(ended)
                    ended = None
                    if item is None:
                        break
                    if queue and not pool.watching and not pool.kicked:
                        self.kick()  # others wait behind it: a spare watches
                self.epoch += 1
                try:
                    run(item[0], item[1], item[2], send)
                except CallCancelled:  # a cancel that came as the frame ended
                    pass
                finally:
                    if self.pool is None:
                        main_frames.pop()
                    else:
                        ended = item  # (a pool made meanwhile finds it in main_frames too)
                ran = True
        finally:
            if ended is not None:
                self.pool.done(None, ended)
            self.busy = held
            self.holding = held
            if several:
                batch.batch_ended()
        if not several and self.posted and not held:
            self.drain_posted()
        return ran

    def serve(self):
        """The main thread's loop. The common case (one frame read, run,
        answered) is inline: every call here costs on every plain call."""
        sock = self.sock
        recv = sock.recv
        perf_counter = time.perf_counter
        run = self.worker.run
        queue = self.queue
        popleft = queue.popleft
        rlock = self.rlock
        send_reply = self.send_reply
        split = self.split
        dontwait = _DONTWAIT
        poll_seconds = POLL_SECONDS
        read_size = READ_SIZE
        poll = False
        if not os.environ.get("ESEM_NO_WATCH"):
            self.watcher = threading.Thread(target=self._watch, name="esem-bridge-watcher", daemon=True)
            self.watcher.start()
        while True:
            if queue:
                if len(queue) == 1 and not self.parked and self.pool is None:
                    self.current = item = popleft()
                    self.busy = self.holding = True
                    self.epoch += 1
                    try:
                        run(item[0], item[1], item[2], send_reply)
                    except CallCancelled:  # a cancel that came as the frame ended
                        pass
                    self.busy = self.holding = False
                    if self.posted:
                        self.drain_posted()
                else:
                    self.current = None
                    if not self.run_queued():
                        self.wait_blocked()
                poll = True
                continue
            if self.eof:
                if self.pool is not None:
                    self.pool.wait_idle()
                    if queue:
                        continue
                break
            if not rlock.acquire(False) and not self.reclaim():
                continue
            data = None
            try:
                self.epoch += 1
                if poll and dontwait:
                    # The next request often follows at once: a short spin
                    # beats going to sleep in recv() and being woken.
                    deadline = perf_counter() + poll_seconds
                    while True:
                        try:
                            data = recv(read_size, dontwait)
                            break
                        except BlockingIOError:
                            if perf_counter() >= deadline:
                                break
                if data is None:
                    data = self.recv_idle(sock, read_size)
                    self.epoch += 1
                ok = bool(data) and split(data)
            finally:
                rlock.release()
                if self.waiters:
                    self.notify()
            poll = False
            if not ok:
                self.set_eof()
                break
        if self.malformed is not None:
            raise self.malformed

    def wait_blocked(self):
        """Every queued frame waits for one a spare runs: the main thread
        waits for that (busy meanwhile: the watcher reads the socket)."""
        held = self.holding
        self.busy = True
        try:
            item = self.pool.wait_blocked(0.05)
            if item is None:
                return
            self.epoch += 1
            try:
                self.worker.run(item[0], item[1], item[2], self.send_reply)
            except CallCancelled:
                pass
            finally:
                self.pool.done(None, item)
        finally:
            self.busy = held

    def _watch(self):
        """Reads the socket for the main thread while one of its frames runs
        longer than a tick (a Cancel for it, replies to other threads)."""
        last = -1
        idle = 0
        sleep = time.sleep
        while not self.eof:
            sleep(WATCH_SECONDS)
            if not self.busy:
                idle += 1
                last = -1
                if idle >= PARK_TICKS:
                    self.parked = True
                    if not self.busy:
                        self.unpark.wait()
                    self.unpark.clear()
                    self.parked = False
                    idle = 0
                continue
            idle = 0
            epoch = self.epoch
            if epoch == last and not self.handover and self.rlock.acquire(False):
                try:
                    self.read_other(lambda: not self.busy and not self.queue)
                finally:
                    self.release_reading()
                last = -1
                continue
            last = epoch


_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


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


def _readable(sock, seconds):
    """Whether sock has something to read within `seconds` (True on an
    error: the read after it finds out)."""
    try:
        return bool(select.select([sock], [], [], seconds)[0])
    except (OSError, ValueError):
        return True


def _recv_blocking(sock, size):
    while True:
        try:
            return sock.recv(size)
        except BlockingIOError:  # the fd came to us non-blocking
            select.select([sock], [], [])


def _fill(sock, pending, need):
    """A bytearray of `need` bytes: pending's, then the rest read from sock
    straight into it (one buffer for a large frame, no chunk list, no copy
    of what is read). None at EOF."""
    have = len(pending)
    full = bytearray(need)  # zeroed once: no temporary of that size, no second copy
    full[:have] = pending
    view = memoryview(full)
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
    return full


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


def main(fd=3, first_id=1, codec_library="", threads=1):
    _prepare_sys_path()
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is Node's to handle
    except (ValueError, OSError, AttributeError):
        pass
    sock = socket.socket(fileno=fd)
    try:
        # Room for a large reply in one write (the kernel caps it at its
        # wmem_max): fewer wake-ups of both processes while it passes.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    except OSError:
        pass
    worker = Worker(int(first_id), codec_library)
    lib = native_codec.load(codec_library)
    native_codec.die_with_parent(lib)
    native_codec.cache_arenas(lib)
    # Kept large blocks go back once the worker has been idle a second (Link.recv_idle).
    trim = lib.trim_large_blocks if native_codec.cache_large_blocks(lib) else None
    worker.install_cancel_signal()
    code = 0
    try:
        _serve(sock, worker, max(int(threads), 1), trim)
    except (ConnectionError, EOFError):  # Node is gone
        pass
    except (MalformedStream, MemoryError) as exc:
        what = str(exc) if isinstance(exc, MalformedStream) else "a frame too large to hold in memory"
        _say("esem-bridge worker: malformed frame from Node (%s); exiting." % what)
        code = EXIT_MALFORMED
    _exit(code)


def _serve(sock, worker, threads=1, trim=None):
    link = _Link(sock, worker, threads)
    link.trim = trim
    worker.reply(lambda out: _send_all(sock, out), STATUS_READY, 0, ("%d.%d.%d" % sys.version_info[:3], sys.executable or ""))
    worker.link = link
    try:
        link.serve()
    finally:
        worker.table.close()
