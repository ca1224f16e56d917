// Test runner configuration: the behaviour suite in test/, one fork per file.
// Forks, not threads: the native addon embeds one CPython per process, and a
// fork per test file gives each file a fresh interpreter.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    pool: "forks",
    include: ["test/**/*.test.ts"],
    exclude: ["test/stress/**", "node_modules/**", "dist/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
