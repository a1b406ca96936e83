import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The suites share one PostgreSQL server and spawn server processes: keep the machine calm.
    maxWorkers: 2,
    globalSetup: ["test/global-setup.ts"],
  },
});
