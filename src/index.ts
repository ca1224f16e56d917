// Public exports of esem-bridge.
export {
  python, shutdown, ensureWorker, release, callSync, iterate, len, getitem, setitem, delitem, contains, setattr, getattr,
  delattr, isinstance, toArray, pyEval, pyExec, withContext,
} from "./api.js";
export { createBridge, Bridge, type BridgeOptions, type ModuleProxy } from "./bridge.js";
export { createPool, Pool, type PoolOptions } from "./pool.js";
export { kw, type Kwargs } from "./kwargs.js";
export { opts, type CallOptions, type CallOptionsMarker } from "./call-options.js";
export { shared, Shared } from "./shared.js";
export { toJs, type ToJsOptions, type ToJsPolicy } from "./to-js.js";
export { PythonError, BridgeError, type BridgeErrorCode } from "./errors.js";
export type { BridgeInfo, Mode, PythonDetails, ShutdownOptions } from "./backend.js";
export type {
  PyProxy,
  PyMember,
  PyCallable,
  Remote,
  RemoteClass,
  RemoteConstructor,
  RemoteFunction,
  RemoteIterable,
  RemoteGenerator,
  Member,
  Value,
  ProxyOps,
  NDArray,
  NDArrayLike,
  NumericArray,
} from "./types.js";
