"""Cancelled calls (docs/concurrency.md#cancellation).

`CallCancelled` is raised in the thread running a call that JS cancelled
(an AbortSignal that aborted, a timeout that passed). It derives from
BaseException, as KeyboardInterrupt does, so that `except Exception:` in
the user's code does not swallow it; `finally` blocks and `with` exits run
as usual. A coroutine call is cancelled with asyncio's own
CancelledError instead.
"""

__all__ = ["CallCancelled"]


class CallCancelled(BaseException):
    """The call running in this thread was cancelled from JS."""
