import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database suites create their own databases; two workers fit the 2-core CI machine.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
