// Current and peak resident memory of a process, from /proc/<pid>/status (Linux).
import { readFileSync } from "node:fs";

/** { rss, hwm } in bytes (VmRSS, VmHWM), or nulls where /proc is missing. */
export function procMemory(pid = "self") {
  let status = "";
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return { rss: null, hwm: null };
  }
  const kb = (key) => {
    const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) * 1024 : null;
  };
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}
