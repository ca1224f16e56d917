// Child entry: `node bench/scenario.js <name> <mode>` runs one scenario in this
// fresh process and prints one line `ESEM_BENCH_RESULT {json}` to stdout.
const MARK = "ESEM_BENCH_RESULT ";
const [name, mode] = process.argv.slice(2);

function emit(record) {
  process.stdout.write(MARK + JSON.stringify(record) + "\n");
}

async function stop(bridge) {
  if (!bridge) return;
  const timeout = new Promise((resolve) => setTimeout(resolve, 5000).unref());
  await Promise.race([bridge.shutdown().catch(() => {}), timeout]);
}

let result;
try {
  const { run } = await import(`./scenarios/${name}.js`);
  result = await run({ mode });
  const info = result.bridge?.info();
  emit({
    ok: true,
    value: result.value,
    samples: result.samples ?? null,
    extra: result.extra ?? null,
    info: info ? { mode: info.mode, python: info.python?.version ?? null, reason: info.reason } : null,
  });
} catch (err) {
  emit({ ok: false, code: err?.code ?? null, message: String(err?.message ?? err).split("\n")[0] });
}
await stop(result?.bridge);
process.exit(0);
