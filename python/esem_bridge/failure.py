"""BridgeFailure: a failure of the bridge itself, raised by either codec
(codec.py, or the C++ one through native_codec.py) and by the worker. On
its own so that a worker on the C++ codec starts without importing
codec.py (~1.2 ms with `array`)."""


class BridgeFailure(Exception):
    """A failure of the bridge itself (not of the user's Python code), sent
    to JS as a BridgeError with `code` (ESEM_RELEASED, ...)."""

    def __init__(self, code, message):
        Exception.__init__(self, code, message)
        self.code = code
        self.message = message

    def __str__(self):
        return "%s: %s" % (self.code, self.message)
