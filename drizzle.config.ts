import { defineConfig } from "drizzle-kit";

// Generation only (`npm run db:generate`): migrations are applied by the bot itself at start (src/db/database.ts).
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
  strict: true,
  verbose: true,
});
