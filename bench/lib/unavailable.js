// A row that cannot run here (an export or a Python package is missing): reported
// as "unavailable" in the table, not as a failed repetition.
export const UNAVAILABLE = "BENCH_UNAVAILABLE";

export function unavailable(reason) {
  const err = new Error(reason);
  err.code = UNAVAILABLE;
  return err;
}

/** `api.shared`, or throws unavailable when this build of the package does not export it. */
export function sharedOf(api) {
  if (typeof api.shared !== "function") throw unavailable("esem-bridge does not export shared() in this build");
  return api.shared;
}
