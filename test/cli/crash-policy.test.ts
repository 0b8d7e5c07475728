/**
 * The crash policy of `chatrelay serve` (docs/operations.md): an unhandled
 * rejection and an exception thrown in a timer (injected with the test hook
 * CHATRELAY_TEST_FAULT=1) are logged at error level with their stack and the
 * process keeps serving IMAP; files are created under umask 077. A damaged
 * database ends the process with a non-zero status (for the service manager).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openStore } from "../../src/store/open.ts";
import { RawClient } from "../imap/support/raw-client.ts";
import { damage } from "../store/helpers.ts";

const BIN = new URL("../../bin/chatrelay.js", import.meta.url).pathname;

function serve(dir: string, env: Record<string, string> = {}) {
  const ini = join(dir, "chatmail.ini");
  writeFileSync(
    ini,
    `[params]\nmail_domain = _crash.test\nlisten_address = 127.0.0.1\ndata_dir = ${join(dir, "data")}\n` +
      "max_load_1m = 1000000\nsmtp_port = off\nsubmission_port = off\nsubmissions_port = off\nimap_port = off\nimaps_port = 0\nhttps_port = off\nhttp_port = off\n",
  );
  const child = spawn(process.execPath, [BIN, "serve", "--config", ini], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const state = { out: "", exited: undefined as number | null | undefined };
  child.stdout.on("data", (d: Buffer) => {
    state.out += d;
  });
  child.stderr.on("data", (d: Buffer) => {
    state.out += d;
  });
  child.once("exit", (code) => {
    state.exited = code;
  });
  return { child, state };
}

async function until(f: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

test("a damaged database stops serve with a non-zero status", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-crash-"));
  const store = await openStore(join(dir, "data"));
  for (let i = 0; i < 300; i++) await store.createAccount(`user${i}@_crash.test`, "h".repeat(100), 1);
  await store.close();
  const { child, state } = serve(dir);
  try {
    await until(() => /imaps 127\.0\.0\.1:\d+/.test(state.out) || state.exited !== undefined);
    const port = Number(/imaps 127\.0\.0\.1:(\d+)/.exec(state.out)?.[1]);
    assert.ok(port > 0, state.out);
    damage(join(dir, "data", "store.sqlite"));
    const c = await RawClient.connect(port);
    await c.read();
    c.write('L LOGIN "user150@_crash.test" "some-password"\r\n');
    await until(() => state.exited !== undefined, 20_000);
    c.close();
    assert.equal(state.exited, 1, state.out);
    assert.match(state.out, /"level":60,.*"code":"SQLITE_CORRUPT.*the database is damaged/);
  } finally {
    if (state.exited === undefined) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an unhandled rejection and a thrown error are logged and the relay keeps serving", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-crash-"));
  const { child, state } = serve(dir, { CHATRELAY_TEST_FAULT: "1" });
  try {
    await until(() => /thrown in a timer/.test(state.out) || state.exited !== undefined);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(state.exited, undefined, `still running: ${state.out}`);
    const out = state.out;
    const port = Number(/imaps 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    assert.ok(port > 0, out);

    // Both faults are error records with their stack, counted.
    const records = out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map(
        (l) =>
          JSON.parse(l) as {
            level: number;
            msg: string;
            origin?: string;
            faults?: number;
            error?: { stack?: string; type?: string };
          },
      );
    const faults = records.filter((r) => r.msg === "unexpected error; still serving");
    assert.deepEqual(
      faults.map((r) => [r.level, r.origin, r.faults]),
      [
        [50, "unhandledRejection", 1],
        [50, "uncaughtException", 2],
      ],
    );
    for (const r of faults) {
      assert.equal(r.error?.type, "Error");
      assert.match(r.error?.stack ?? "", /injected fault: .*\n\s+at /);
    }

    // Still serving: a client gets the greeting and a new account logs in.
    const c = await RawClient.connect(port);
    assert.match(await c.read(), /^\* OK /);
    await c
      .login("crashtest@_crash.test", "crash-test-password")
      .catch((e: Error) => assert.fail(`${e.message}\n${state.out}`));
    c.close();

    // serve runs with umask 077 (Linux shows it in /proc).
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    assert.match(status, /^Umask:\s+0077$/m);

    const code = await new Promise<number | null>((resolve) => {
      if (state.exited !== undefined) resolve(state.exited);
      child.once("exit", (c) => resolve(c));
      child.kill("SIGTERM");
    });
    assert.equal(code, 0, out);
  } finally {
    if (state.exited === undefined) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
