import assert from "node:assert/strict";
import { test } from "node:test";
import { BODY_KINDS, countBodies, tempStore } from "./helpers.ts";

test("enqueue deduplicates on (queue, key); other queues are separate", async () => {
  const t = await tempStore();
  try {
    const a = await t.store.enqueue({ queue: "push", key: "tok1", payload: { n: 1 }, dueAt: 100 });
    const b = await t.store.enqueue({ queue: "push", key: "tok1", payload: { n: 2 }, dueAt: 50 });
    assert.deepEqual(b, a);
    assert.deepEqual(a.payload, { n: 1 });
    assert.equal(a.attempts, 0);
    assert.equal(a.lastError, null);
    const c = await t.store.enqueue({ queue: "outbound", key: "tok1", payload: null });
    assert.notEqual(c.id, a.id);
    const d = await t.store.enqueue({ queue: "push", payload: "no key" });
    const e = await t.store.enqueue({ queue: "push", payload: "no key" });
    assert.notEqual(d.id, e.id);
    const concurrent = await Promise.all(
      Array.from({ length: 8 }, (_, i) => t.store.enqueue({ queue: "push", key: "k", payload: i })),
    );
    assert.equal(new Set(concurrent.map((j) => j.id)).size, 1);
    assert.equal((await t.store.listJobs("push")).length, 4);
  } finally {
    await t.cleanup();
  }
});

test("dueJobs: only due jobs, oldest due first, limited; reschedule; delete", async () => {
  const t = await tempStore();
  try {
    const j1 = await t.store.enqueue({ queue: "q", payload: 1, dueAt: 300 });
    const j2 = await t.store.enqueue({ queue: "q", payload: 2, dueAt: 100 });
    const j3 = await t.store.enqueue({ queue: "q", payload: 3, dueAt: 200 });
    await t.store.enqueue({ queue: "q", payload: 4, dueAt: 1000 });
    assert.deepEqual(
      (await t.store.dueJobs("q", 300, 10)).map((j) => j.id),
      [j2.id, j3.id, j1.id],
    );
    assert.deepEqual(
      (await t.store.dueJobs("q", 300, 2)).map((j) => j.id),
      [j2.id, j3.id],
    );
    assert.deepEqual(await t.store.dueJobs("other", 300, 10), []);

    await t.store.rescheduleJob(j2.id, 500, "451 try later");
    let got = (await t.store.getJob(j2.id))!;
    assert.equal(got.dueAt, 500);
    assert.equal(got.attempts, 1);
    assert.equal(got.lastError, "451 try later");
    assert.equal(got.payload, 2);
    await t.store.rescheduleJob(j2.id, 600, null, { changed: true });
    got = (await t.store.getJob(j2.id))!;
    assert.deepEqual(
      [got.dueAt, got.attempts, got.lastError, got.payload],
      [600, 2, null, { changed: true }],
    );
    assert.deepEqual(
      (await t.store.dueJobs("q", 300, 10)).map((j) => j.id),
      [j3.id, j1.id],
    );

    await t.store.deleteJob(j3.id);
    assert.equal(await t.store.getJob(j3.id), undefined);
    await t.store.deleteJob(j3.id); // no-op
    await t.reopen();
    assert.deepEqual((await t.store.getJob(j2.id))?.payload, { changed: true });
  } finally {
    await t.cleanup();
  }
});

for (const [kind, opts] of BODY_KINDS)
  test(`job bodies: stored durably, removed with the job, not kept on a dedup hit (${kind})`, async () => {
    const t = await tempStore(opts);
    try {
      const data = Buffer.from("From: a@example.org\r\n\r\nbody\r\n");
      const job = await t.store.enqueue({ queue: "outbound", key: "m1", payload: { to: ["x@y.org"] }, data });
      assert.ok(job.blobId);
      assert.deepEqual(await t.store.readBlob(job.blobId), data);
      const dup = await t.store.enqueue({
        queue: "outbound",
        key: "m1",
        payload: {},
        data: Buffer.from("other"),
      });
      assert.equal(dup.blobId, job.blobId);
      assert.equal(countBodies(t.dir), 1);
      await t.reopen();
      assert.deepEqual(await t.store.readBlob((await t.store.getJob(job.id))!.blobId!), data);
      await t.store.deleteJob(job.id);
      assert.equal(countBodies(t.dir), 0);
    } finally {
      await t.cleanup();
    }
  });
