// The machine the numbers came from.
import os from "node:os";
import { readFileSync } from "node:fs";

function readPackageVersion() {
  try {
    return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
  } catch {
    return null;
  }
}

export function environment() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    cores: cpus.length,
    availableParallelism: os.availableParallelism?.() ?? cpus.length,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    loadavg: os.loadavg(),
    totalMemGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    package: readPackageVersion(),
    python: null, // filled in from bridge.info() of a child that started
    spinUs: process.env.ESEM_SPIN_US ?? "default",
  };
}

export function environmentLine(env) {
  return (
    `${env.cpu} × ${env.cores} cores, ${env.platform}; Node ${env.node}; ` +
    `Python ${env.python ?? "n/a"}; esem-bridge ${env.package}; ` +
    `${env.spinUs === "default" ? "" : `ESEM_SPIN_US=${env.spinUs}; `}` +
    `${env.loadavg?.length ? `load average ${env.loadavg.map((x) => x.toFixed(2)).join("/")} at the start; ` : ""}${env.date}`
  );
}
