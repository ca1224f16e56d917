"""Python side of esem-bridge: the runtime both the native addon and the
subprocess worker drive. Nothing here imports Node or the addon."""

from .cancel import CallCancelled

__all__ = ["ops", "CallCancelled"]
