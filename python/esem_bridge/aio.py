"""The bridge's asyncio loop (docs/concurrency.md#asyncio): one event loop
per process, on a daemon thread of its own ("esem-bridge-asyncio"),
started by the first `async def` call. Every coroutine a call returns runs
there, so coroutines started together run together and a plain call is
never held up by a sleeping one. Both modes use it.
"""

import threading

_lock = threading.Lock()
_loop = None
_thread = None


def loop():
    """The bridge's running event loop (started on first use)."""
    global _loop, _thread
    if _loop is not None:
        return _loop
    with _lock:
        if _loop is None:
            import asyncio  # deferred: most bridges never need it

            new = asyncio.new_event_loop()
            ready = threading.Event()

            def run():
                asyncio.set_event_loop(new)
                new.call_soon(ready.set)
                new.run_forever()

            _thread = threading.Thread(target=run, name="esem-bridge-asyncio", daemon=True)
            _thread.start()
            ready.wait()
            _loop = new
    return _loop


def on_loop_thread():
    """True on the bridge's loop thread."""
    return _thread is not None and threading.current_thread() is _thread


def submit(coro, done):
    """Runs `coro` on the loop; `done(future)` is called on the loop thread
    when it finishes (a concurrent.futures.Future: result() or exception()).
    Returns the future (cancel() cancels the coroutine)."""
    import asyncio

    future = asyncio.run_coroutine_threadsafe(coro, loop())
    future.add_done_callback(done)
    return future


def iterate_async(agen, n, seconds):
    """A coroutine of up to n items of an async iterator and whether it is
    exhausted, ending early once it took `seconds` (ops.next_batch)."""
    import time

    async def batch():
        out = []
        start = time.perf_counter()
        for _ in range(n):
            try:
                out.append(await agen.__anext__())
            except StopAsyncIteration:
                return out, True
            if time.perf_counter() - start >= seconds:
                break
        return out, False

    return batch()
