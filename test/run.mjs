#!/usr/bin/env node
// Runs the test suite with node:test through tsx. Node 20 does not expand globs
// itself, so the files are collected here. `node test/run.mjs [filter...]` runs
// only files whose path contains one of the filters.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect("test", [])
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
// Tests use temporary folders only: the production data_dir must not appear.
const SYSTEM_DATA_DIR = "/var/lib/chatrelay";
const hadSystemDataDir = existsSync(SYSTEM_DATA_DIR);
const result = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--import",
    "./test/support/fast-check-replay.ts",
    "--test",
    "--test-concurrency=2",
    // per file (each runs in its own process): the packed-install test compiles
    // better-sqlite3, about 80 s on two idle cores and several times that on a busy machine
    "--test-timeout=600000",
    ...files,
  ],
  { stdio: "inherit" },
);
if (!hadSystemDataDir && existsSync(SYSTEM_DATA_DIR)) {
  console.error(`a test wrote to ${SYSTEM_DATA_DIR}; tests must use temporary folders only`);
  process.exit(1);
}
process.exit(result.status ?? 1);
