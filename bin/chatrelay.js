#!/usr/bin/env node
// The `chatrelay` command. An installed package runs the compiled JavaScript in
// dist/ (built by `npm run build`, which `npm pack` runs); a git checkout, where
// src/ is present, runs the TypeScript sources through tsx, so `npm start` needs
// no build step and never runs a stale dist/.
import { existsSync } from "node:fs";

// More libuv threads let concurrent deliveries fsync their files in parallel
// (the store batches them into group commits); it must be set before first use.
process.env.UV_THREADPOOL_SIZE ??= "16";
const sources = new URL("../src/cli/main.ts", import.meta.url);
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(sources.href);
} else {
  await import("../dist/cli/main.js");
}
