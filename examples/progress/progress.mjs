// A long Python task that reports progress to JS and that the user can cancel.
//   node examples/progress/progress.mjs           runs 100 steps; press Enter (or Ctrl+C) to cancel
//   node examples/progress/progress.mjs --cancel-after 5   cancels by itself after 5 reports
import { python, opts, shutdown } from "esem-bridge";

const { long_task } = await python(new URL("./task.py", import.meta.url));
const controller = new AbortController();
const auto = process.argv.indexOf("--cancel-after");
const limit = auto > 0 ? Number(process.argv[auto + 1]) : Infinity;

const onProgress = (done, total) => {
  process.stdout.write(`progress ${done}/${total}\n`);
  if (done >= limit) controller.abort(new Error("the user cancelled"));
};
if (auto < 0) {
  console.log("press Enter to cancel");
  process.stdin.once("data", () => controller.abort(new Error("the user cancelled")));
  process.once("SIGINT", () => controller.abort(new Error("the user cancelled")));
}

try {
  console.log(await long_task(100, onProgress, opts({ signal: controller.signal })));
} catch (error) {
  // The promise rejects at once; Python gets CallCancelled at its next bytecode and stops.
  console.log(`cancelled: ${error.name} (${error.code}): ${error.cause?.message ?? error.message}`);
} finally {
  process.stdin.pause();
  await shutdown();
}
