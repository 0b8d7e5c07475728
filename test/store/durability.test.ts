import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { isInlineId } from "../../src/store/inline-bodies.ts";
import { openStore } from "../../src/store/open.ts";
import { durabilityBody, tempStore } from "./helpers.ts";

const CHILD = fileURLToPath(new URL("./durability-child.ts", import.meta.url));

/** Runs the child until it has acknowledged `acks` appends, then SIGKILLs it. Returns uid → seq. */
function runChild(dir: string, run: number, concurrency: number, acks: number): Promise<Map<number, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, String(run), String(concurrency)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acked = new Map<number, number>();
    let buffer = "";
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      if (killed) return;
      buffer += d.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        const [uid, seq] = line.split(" ").map(Number);
        acked.set(uid!, seq!);
        if (acked.size >= acks) {
          // Kill right after reading an acknowledgement, mid-flight for the other writers.
          killed = true;
          child.kill("SIGKILL");
          break;
        }
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL" && killed) resolve(acked);
      else reject(new Error(`child exited early (${code ?? signal}): ${stderr}`));
    });
  });
}

test("every acknowledged append survives five SIGKILLs exactly once, with identical bytes", async () => {
  const t = await tempStore();
  await t.store.close();
  try {
    const runs: Array<[concurrency: number, acks: number]> = [
      [1, 15],
      [8, 40],
      [32, 120],
      [32, 77],
      [16, 60],
    ];
    // Every body names its run and sequence number ("run R message S"): the
    // acknowledged appends of all runs so far, as "R S".
    const ackedSoFar = new Set<string>();
    // acknowledged bodies of both kinds: rows inside the database and files
    const kinds = new Set<string>();
    let maxUid = 0;
    for (const [run, [concurrency, acks]] of runs.entries()) {
      const acked = await runChild(t.dir, run, concurrency, acks);
      assert.ok(acked.size >= acks);
      const store = await openStore(t.dir);
      try {
        const inbox = (await store.getMailbox("durable@example.org", "INBOX"))!;
        // UIDs handed out in this run are above those of earlier runs.
        assert.ok(Math.min(...acked.keys()) > maxUid);
        for (const [uid, seq] of acked) {
          const rec = await store.getMessage(inbox.id, uid);
          assert.ok(rec, `acknowledged uid ${uid} is missing after kill`);
          kinds.add(isInlineId(rec.blobId) ? "inline" : "file");
          assert.deepEqual(await store.readBlob(rec.blobId), durabilityBody(run, seq));
        }
        // No committed row may point at a missing file; each acknowledged
        // append is there exactly once, and nothing is there twice.
        for (const seq of acked.values()) ackedSoFar.add(`${run} ${seq}`);
        const all = await store.listMessages(inbox.id);
        const seen = new Map<string, number>();
        for (const rec of all) {
          const blob = await store.readBlob(rec.blobId);
          assert.equal(blob.length, rec.size);
          const id = /^run (\d+) message (\d+) /.exec(blob.toString("latin1"));
          assert.ok(id, `uid ${rec.uid} holds a body nobody wrote`);
          const key = `${id[1]} ${id[2]}`;
          assert.deepEqual(blob, durabilityBody(Number(id[1]), Number(id[2])), `uid ${rec.uid} is complete`);
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }
        for (const [key, n] of seen) assert.equal(n, 1, `append ${key} stored ${n} times`);
        for (const key of ackedSoFar) assert.equal(seen.get(key), 1, `acknowledged append ${key} is missing`);
        maxUid = Math.max(maxUid, ...all.map((m) => m.uid));
        assert.ok(inbox.uidNext > maxUid);
      } finally {
        await store.close();
      }
    }
    assert.deepEqual([...kinds].sort(), ["file", "inline"]);
  } finally {
    t.store = await openStore(t.dir);
    await t.cleanup();
  }
});
