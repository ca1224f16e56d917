"""The subprocess worker's pool of spare Python threads
(docs/concurrency.md#the-subprocess-worker), the same rules as the native
mode's host (native/python_host.cc):

- Frames run in order on the main thread (worker.py's _Link). When every
  thread running a frame has been busy for STUCK_SECONDS and a frame has
  waited that long, a spare thread (up to `threads` - 1 of them) runs it:
  the running ones let go of the GIL (sleep, I/O, C code) or share it.
- Calls on one object keep their order and never overlap: a Call, GetAttr,
  SetAttr or CallProxy frame whose ref is a registered object that is not
  a module waits while another thread runs a frame on that ref, and so do
  the later frames on it (a thread may run nested frames on refs it holds
  itself: a callback that calls Python back).
- A Release waits for the earlier frames left waiting and for the frames
  other threads run on its ref.
- Replies go out as frames end (worker.Worker.run_spare: encoded and sent
  under the codec lock, so the socket's order is the encodes' order).

Threads: `lock` (the condition's) guards the queue's scans and removals
once the pool exists (the main thread then takes its frames under it too),
every runner's `frames` and `user`. Readers only append to the queue.
"""

import os
import struct
import threading
import time
import types

from .cancel import CallCancelled

STUCK_SECONDS = 200e-6
LATE_SECONDS = 1e-3  # a spare that woke this much late waited for the GIL
BACKOFF_SECONDS = 5e-3  # the longest a watching spare waits between looks at a main thread that moves on
SCAN_LIMIT = 64  # queued frames a take looks at

_KEYED_OPS = (1, 2, 3, 6, 7)  # Call, GetAttr, SetAttr, Helper (on the object it acts on), CallProxy
_OP_RELEASE = 5
_HEADER = 13  # u8 op, u32 seq, f64 ref
_MODULE = types.ModuleType


class Spare(object):
    """One spare thread: the frames it runs (a stack: nested ones on top),
    since when, and the seq of the frame running the user's code."""

    __slots__ = ("pool", "ident", "frames", "busy_since", "user", "pending", "thread")

    def __init__(self, pool):
        self.pool = pool
        self.ident = 0
        self.frames = []  # queue items
        self.busy_since = 0.0
        self.user = 0
        self.pending = False  # a CallCancelled was set on this thread (SetAsyncExc)
        self.thread = None

    def set_user(self, seq):
        """Sets the cancellable seq (0: none); the previous one. Under the
        pool's lock, so that no cancel lands once it is 0 (one that landed
        before is cleared)."""
        with self.pool.lock:
            old = self.user
            self.user = seq
            if not seq and self.pending:
                self.pending = False
                _set_async_exc(self.ident, None)
            return old


class Pool(object):
    def __init__(self, link, worker, threads):
        self.link = link
        self.worker = worker
        self.max_spares = max(int(threads) - 1, 0)
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.spares = []
        self.by_ident = {}
        self.idle = 0  # spares waiting for a frame
        self.main_frames = link.main_frames  # what the main thread runs through run_queued (nested ones on top)
        tid = getattr(link, "main_tid", 0)
        self._stat_path = "/proc/self/task/%d/stat" % tid if tid and os.path.isdir("/proc/self/task/%d" % tid) else None
        self.watching = False  # a spare waits for a queued frame to have waited long enough
        # A kick woke the spares and none has looked yet: later kicks need
        # not wake them again (in a burst, the main thread would otherwise
        # take the condition and notify on every frame until a spare gets
        # the GIL, up to a switch interval later).
        self.kicked = False
        self.held_back = False  # a take left a frame waiting for another (done() wakes the others)
        self._epoch = -1  # the main thread's epoch when last seen, and since when
        self._epoch_at = 0.0

    # --- taking frames (under lock) -------------------------------------

    def _classify(self, item):
        """(op, ref, key) of a queued frame; key 0 for frames not ordered."""
        buf, pos, end = item[0], item[1], item[2]
        if end - pos < _HEADER:
            return 0, 0, 0
        op = buf[pos]
        ref = int(_unpack_ref(buf, pos + 5)[0])
        if op in _KEYED_OPS and ref:
            obj = self.worker.registry.objects.get(ref)
            if obj is not None and type(obj) is not _MODULE:
                return op, ref, ref
        return op, ref, 0

    def _runs_elsewhere(self, me, ref, key):
        """Whether a thread other than me runs a frame with this key (key
        != 0) or on this ref (key == 0: for a Release)."""
        for frames in self._others(me):
            for item in frames:
                _, r, k = self._classify(item)
                if (k == key) if key else (r == ref):
                    return True
        return False

    def _others(self, me):
        link = self.link
        if me is not None:  # a spare: the main thread's frames count
            current = link.current
            if current is not None and link.busy:
                yield (current,)
            yield self.main_frames
        for spare in self.spares:
            if spare is not me:
                yield spare.frames

    def take(self, me, spare, now=0.0):
        """The first queued frame thread `me` (None: the main thread) may
        run, removed from the queue and recorded as me's; None when none.
        A spare takes only frames that waited STUCK_SECONDS."""
        queue = self.link.queue
        if me is None:
            for other in self.spares:
                if other.frames:
                    break
            else:
                # Nothing runs on a spare: the first frame cannot wait for
                # anything (what the scan below finds too, without its cost).
                if not queue:
                    return None
                item = queue.popleft()
                self.main_frames.append(item)
                return item
        passed = set()
        barred = False
        for i in range(min(len(queue), SCAN_LIMIT)):
            item = queue[i]
            if spare and (now - item[3] < STUCK_SECONDS or item[2] - item[1] < _HEADER):
                break  # younger ones: the main thread may yet take them (short ones: it reports them)
            op, ref, key = self._classify(item)
            if op == _OP_RELEASE:
                wait = barred or self._runs_elsewhere(me, ref, 0)
            elif key:
                wait = key in passed or self._runs_elsewhere(me, ref, key)
                if wait:
                    passed.add(key)
            else:
                wait = False
            if wait:
                barred = True
                self.held_back = True
                continue
            del queue[i]
            (self.main_frames if me is None else me.frames).append(item)
            return item
        return None

    def done(self, me, item):
        """Frame `item` of `me` (None: main) ended: others may take what
        waited for it. Only a frame some take left waiting wakes the others
        (a wake per frame would make a watching spare take the GIL from the
        main thread on every call of a burst). The lock itself, not the
        condition made over it: its Python-level __enter__ cost a tenth of a
        burst's frames."""
        with self.lock:
            self._done(me, item)

    def next_main(self, ended):
        """done(None, ended) when ended is not None, then take(None, False):
        the main thread's step from one frame to the next in a burst,
        under one acquisition of the lock."""
        with self.lock:
            if ended is not None:
                self._done(None, ended)
            return self.take(None, False)

    def _done(self, me, item):
        frames = self.main_frames if me is None else me.frames
        if frames and frames[-1] is item:
            frames.pop()  # the usual case: the last one taken
        else:
            for i in range(len(frames) - 1, -1, -1):
                if frames[i] is item:
                    del frames[i]
                    break
        if self.held_back:
            self.held_back = False
            self.cond.notify_all()

    def _others_stuck(self, me, now):
        """Every thread but me that runs a frame has run it STUCK_SECONDS
        (the main thread: its epoch unchanged that long); the main thread
        is running one. 0 when so, else how long to wait before asking
        again (None: until something changes)."""
        link = self.link
        if not link.busy:
            return None  # the main thread is free: it takes the frame
        epoch = link.epoch
        if not self.worker.user:
            # Busy but not in the user's code (decoding, sending a reply,
            # reading for a callback, blocked behind a spare): it goes on
            # with the queue itself soon; a spare would only reorder replies.
            self._epoch = -1
            return STUCK_SECONDS
        if epoch != self._epoch:
            self._epoch = epoch
            self._epoch_at = now
            return STUCK_SECONDS
        wait = STUCK_SECONDS - (now - self._epoch_at)
        for spare in self.spares:
            if spare is not me and spare.busy_since:
                wait = max(wait, STUCK_SECONDS - (now - spare.busy_since))
        return wait if wait > 0 else 0

    def _main_blocked(self):
        """Whether the main thread sleeps in the kernel (time.sleep, I/O, a
        lock: Linux's /proc task state S or D) rather than runs; True where
        that cannot be read."""
        path = self._stat_path
        if path is None:
            return True
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                data = os.read(fd, 512)
            finally:
                os.close(fd)
        except OSError:
            self._stat_path = None
            return True
        i = data.rfind(b")")
        return i < 0 or data[i + 2:i + 3] not in (b"R",)

    # --- spares -----------------------------------------------------------

    def kick(self):
        """Frames wait while the main thread runs one: a spare watches (any
        thread; not holding lock)."""
        with self.cond:
            self._start_spare_if_needed()
            self.kicked = True
            self.cond.notify_all()

    def _start_spare_if_needed(self):
        if self.idle > 0 or len(self.spares) >= self.max_spares or self.link.eof:
            return
        spare = Spare(self)
        self.spares.append(spare)
        self.idle += 1  # counted idle from the start: no second one for the same wait
        t = threading.Thread(target=self._spare_main, args=(spare,), name="esem-bridge-pool-%d" % len(self.spares), daemon=True)
        spare.thread = t
        t.start()

    def _spare_main(self, me):
        me.ident = threading.get_ident()
        self.by_ident[me.ident] = me
        perf_counter = time.perf_counter
        queue = self.link.queue
        counted = True
        # While the main thread keeps moving on (a burst of short frames),
        # look at it less and less often (to BACKOFF_SECONDS): each look
        # takes the GIL from it.
        backoff = STUCK_SECONDS
        while True:
            try:
                with self.cond:
                    if not counted:
                        self.idle += 1
                    counted = False
                    item = None
                    while item is None:
                        if self.link.eof and not queue:
                            self.idle -= 1
                            return
                        self.watching = False
                        self.kicked = False  # this look sees every frame queued before it
                        if not queue:
                            backoff = STUCK_SECONDS
                            self.cond.wait()
                            continue
                        now = perf_counter()
                        wait = self._others_stuck(me, now)
                        if wait is None:
                            backoff = STUCK_SECONDS
                            self.cond.wait()  # the main thread is free: it takes them (or kicks)
                            continue
                        if wait >= STUCK_SECONDS:  # it moved on since the last look
                            wait = backoff
                            backoff = min(backoff * 2, BACKOFF_SECONDS)
                        else:
                            backoff = STUCK_SECONDS
                        wait = max(wait, STUCK_SECONDS - (now - queue[0][3]))
                        if wait > 0:
                            self.watching = True
                            self.cond.wait(wait)
                            if perf_counter() - now - wait > LATE_SECONDS:
                                # This thread waited for the GIL: the main
                                # thread holds it (pure Python), or waits
                                # for it too; not stuck (a spare would
                                # only reorder the replies).
                                self._epoch = -1
                            continue
                        if not self._main_blocked():
                            # Running or runnable (pure Python, or only
                            # descheduled on a loaded machine): a spare
                            # would share the GIL for nothing and reorder
                            # the replies.
                            self._epoch = -1
                            self.watching = True
                            self.cond.wait(STUCK_SECONDS)
                            continue
                        item = self.take(me, True, now)
                        if item is not None:
                            self._epoch = -1  # the next take watches the main thread afresh
                        if item is None:
                            self.cond.wait()  # every frame waits for another: until one ends
                    self.watching = False
                    self.idle -= 1
                    me.busy_since = now
                    self._start_spare_if_needed()  # the next one, for the next stuck frame
                self.run(me, item)
            except CallCancelled:  # a cancel that came as the frame ended
                pass

    def run(self, me, item):
        """Runs one frame taken by spare `me` and answers it at once."""
        try:
            self.worker.run_spare(item[0], item[1], item[2], me, self.link.send_reply)
        finally:
            with self.cond:
                if len(me.frames) == 1:
                    me.busy_since = 0.0
            self.done(me, item)

    def spare_of_this_thread(self):
        return self.by_ident.get(threading.get_ident())

    # --- cancellation -----------------------------------------------------

    def cancel(self, seq):
        """A frame with this seq that a spare runs gets CallCancelled at its
        next bytecode."""
        with self.lock:
            for spare in self.spares:
                if spare.user == seq:
                    spare.pending = True
                    _set_async_exc(spare.ident, CallCancelled)

    # --- the main thread ----------------------------------------------------

    def wait_blocked(self, timeout):
        """The main thread has queued frames it may not take (each waits for
        a frame a spare runs): the first it may take once one ends, or None
        after timeout."""
        with self.cond:
            item = self.take(None, False)
            if item is None:
                self.cond.wait(timeout)
                item = self.take(None, False)
            return item

    def busy_spares(self):
        with self.lock:
            return sum(1 for s in self.spares if s.frames)

    def wait_idle(self):
        """At the socket's end: until no spare runs a frame."""
        with self.cond:
            while any(s.frames for s in self.spares):
                self.cond.wait(0.05)


_unpack_ref = struct.Struct("<d").unpack_from


def _set_async_exc(ident, exc):
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc) if exc is not None else None)

