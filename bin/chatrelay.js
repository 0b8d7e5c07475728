#!/usr/bin/env node
// The `chatrelay` command: runs the TypeScript sources through tsx.
// More libuv threads let concurrent deliveries fsync their files in parallel
// (the store batches them into group commits); it must be set before first use.
process.env.UV_THREADPOOL_SIZE ??= "16";
const { register } = await import("tsx/esm/api");
register();
await import("../src/cli/main.ts");
