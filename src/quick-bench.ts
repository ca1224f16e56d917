// `esem bench`: a short benchmark of both modes on this machine, in this
// process (the full one, with fresh processes per cell, is `npm run bench`
// in the repository).
import { createBridge } from "./bridge.js";
import type { Mode } from "./backend.js";

interface Row {
  name: string;
  unit: string;
  values: Partial<Record<Mode, number>>;
  higherIsBetter: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function measure(mode: Mode, rounds: number) {
  const bridge = createBridge({ mode });
  try {
    const operator = await bridge.python("operator");
    const collections = await bridge.python("collections");
    const add = operator.add;
    for (let i = 0; i < 2000; i++) await add(1, 2);
    const seq: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      for (let i = 0; i < 2000; i++) await add(1, 2);
      seq.push(((performance.now() - t) * 1000) / 2000);
    }
    const conc: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      const pending = new Array(20_000);
      for (let i = 0; i < pending.length; i++) pending[i] = add(i, 1);
      await Promise.all(pending);
      conc.push(pending.length / ((performance.now() - t) / 1000));
    }
    const obj: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      for (let i = 0; i < 300; i++) {
        const d = await collections.deque();
        await d.append(i);
        await d.release();
      }
      obj.push(((performance.now() - t) * 1000) / 300);
    }
    return { seq: median(seq), conc: median(conc), obj: median(obj), info: bridge.info() };
  } finally {
    await bridge.shutdown();
  }
}

export async function quickBench(out: (text: string) => void, rounds = 5): Promise<number> {
  const rows: Row[] = [
    { name: "awaited call", unit: "µs", values: {}, higherIsBetter: false },
    { name: "concurrent calls", unit: "calls/s", values: {}, higherIsBetter: true },
    { name: "object + method + release", unit: "µs", values: {}, higherIsBetter: false },
  ];
  for (const mode of ["native", "subprocess"] as const) {
    try {
      const r = await measure(mode, rounds);
      rows[0].values[mode] = r.seq;
      rows[1].values[mode] = r.conc;
      rows[2].values[mode] = r.obj;
      out(`${mode}: CPython ${r.info.python?.version} (${r.info.python?.executable})\n`);
    } catch (error) {
      out(`${mode}: not available: ${(error as Error).message.split("\n")[0]}\n`);
    }
  }
  const fmt = (v: number | undefined) => (v === undefined ? "n/a" : v >= 1000 ? `${Math.round(v / 1000)} k` : v.toFixed(2));
  out(`\n${"".padEnd(32)}${"native".padStart(12)}${"subprocess".padStart(12)}${"native ×".padStart(10)}\n`);
  for (const row of rows) {
    const { native, subprocess } = row.values;
    const ratio = native && subprocess ? (row.higherIsBetter ? native / subprocess : subprocess / native).toFixed(1) : "n/a";
    out(`${`${row.name} (${row.unit})`.padEnd(32)}${fmt(native).padStart(12)}${fmt(subprocess).padStart(12)}${ratio.padStart(10)}\n`);
  }
  out(`\nmedians of ${rounds} rounds in this process; \`npm run bench\` in the repository measures in fresh processes\n`);
  return rows[0].values.native === undefined && rows[0].values.subprocess === undefined ? 1 : 0;
}
