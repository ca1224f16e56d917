// An HTTP JSON API that answers with statistics computed by Python.
//   node examples/http-stats/server.mjs            serves on http://127.0.0.1:8080 (PORT to change)
//   node examples/http-stats/server.mjs --load 500 starts it, sends 500 concurrent requests, prints a summary, exits
// POST /stats with a JSON array of numbers; GET /health.
import { createServer } from "node:http";
import { python, shutdown, PythonError } from "esem-bridge";

const { summary } = await python(new URL("./stats.py", import.meta.url));

const server = createServer(async (req, res) => {
  const reply = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  try {
    if (req.method === "GET" && req.url === "/health") return reply(200, { ok: true });
    if (req.method !== "POST" || req.url !== "/stats") return reply(404, { error: "POST /stats or GET /health" });
    let body = "";
    for await (const chunk of req) body += chunk;
    const values = JSON.parse(body);
    if (!Array.isArray(values) || !values.every((v) => typeof v === "number")) return reply(400, { error: "send a JSON array of numbers" });
    reply(200, await summary(values)); // the event loop keeps serving while Python computes
  } catch (error) {
    if (error instanceof SyntaxError) return reply(400, { error: "the body is not JSON" });
    if (error instanceof PythonError) return reply(422, { error: error.message, type: error.pythonType });
    reply(500, { error: String(error) });
  }
});

const load = process.argv.indexOf("--load");
const port = load > 0 ? 0 : Number(process.env.PORT ?? 8080);
server.listen(port, "127.0.0.1", async () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  if (load < 0) {
    console.log(`listening on ${url} (POST /stats with a JSON array of numbers)`);
    return;
  }
  const n = Number(process.argv[load + 1] ?? 200);
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`${url}/stats`, { method: "POST", body: JSON.stringify(Array.from({ length: 1000 }, (_, k) => (k * 7919 + i) % 1000)) }).then((r) => r.json()),
    ),
  );
  const bad = await fetch(`${url}/stats`, { method: "POST", body: "[]" }).then((r) => r.status);
  const ms = performance.now() - t0;
  console.log(`${n} concurrent requests in ${ms.toFixed(0)} ms (${Math.round((n / ms) * 1000)} req/s), engine: ${answers[0].engine}`);
  console.log(`mean ${answers[0].mean}, p50 ${answers[0].p50}, all answered: ${answers.every((a) => a.n === 1000)}, empty body -> ${bad}`);
  server.close();
  await shutdown();
});
