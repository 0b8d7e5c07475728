import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { OUTBOUND_QUEUE } from "../../src/delivery/outbound/queue.ts";
import { openStore } from "../../src/store/open.ts";

const BIN = new URL("../../bin/chatrelay.js", import.meta.url).pathname;

test("chatrelay queue: list, retry now, delete", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-queue-"));
  try {
    const ini = join(dir, "chatmail.ini");
    writeFileSync(ini, `[params]\nmail_domain = _queue.test\ndata_dir = ${join(dir, "data")}\n`);
    const store = await openStore(join(dir, "data"));
    const later = Date.now() + 3_600_000;
    const job = await store.enqueue({
      queue: OUTBOUND_QUEUE,
      payload: { mailFrom: "a@_queue.test", domain: "far.test", recipients: ["b@far.test"], attempts: 2 },
      data: Buffer.from("Subject: x\r\n\r\nbody\r\n"),
      dueAt: later,
    });
    await store.close();
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, "queue", ...args, "--config", ini], {
        encoding: "utf8",
        timeout: 60_000,
      });

    const list = run("list");
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${job.id}\\tfar\\.test\\t1 recipient\\(s\\)\\t.*attempts 2`, "m"));

    const retry = run("retry", String(job.id));
    assert.equal(retry.status, 0, retry.stderr);
    const reopened = await openStore(join(dir, "data"));
    try {
      const [due] = await reopened.dueJobs(OUTBOUND_QUEUE, Date.now(), 10);
      assert.equal(due?.id, job.id, "due now after retry");
    } finally {
      await reopened.close();
    }

    assert.equal(run("delete", "999999").status, 1, "unknown id");
    const del = run("delete", String(job.id));
    assert.equal(del.status, 0, del.stderr);
    assert.match(run("list").stdout, /the outbound queue is empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
