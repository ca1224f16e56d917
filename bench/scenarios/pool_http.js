// An HTTP handler that calls Python for ~1 ms of CPU-bound work, under load
// (32 requests in flight for 2 s over keep-alive): requests/s with a pool of
// 2 members over requests/s with 1 (createPool, members in the bench's mode).
import http from "node:http";
import { DIST, FIXTURE } from "../lib/open.js";

async function serve(api, mode, size) {
  const pool = api.createPool({ size, mode });
  const mod = await pool.python(FIXTURE);
  await mod.burn_ms(1);
  const server = http.createServer(async (_req, res) => {
    res.end(String(await mod.burn_ms(1)));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const { port } = server.address();
  let done = 0;
  const end = performance.now() + 2000;
  const client = async () => {
    while (performance.now() < end) {
      await new Promise((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, agent }, (res) => {
          res.resume();
          res.on("end", resolve);
        }).on("error", reject);
      });
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 32 }, client));
  const rps = done / ((performance.now() - t0) / 1000);
  agent.destroy();
  await new Promise((r) => server.close(r));
  await pool.shutdown();
  return rps;
}

export async function run({ mode }) {
  const api = await import(DIST);
  if (typeof api.createPool !== "function") {
    const { unavailable } = await import("../lib/unavailable.js");
    throw unavailable("esem-bridge does not export createPool() in this build");
  }
  const one = await serve(api, mode, 1);
  const two = await serve(api, mode, 2);
  return { bridge: null, value: two / one, samples: [two / one], extra: { rps1: one, rps2: two } };
}
