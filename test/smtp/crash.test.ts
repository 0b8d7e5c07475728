import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openStore } from "../../src/store/open.ts";
import { fixture } from "../support/mail.ts";
import { submit } from "../support/smtp.ts";

const BIN = new URL("../../bin/chatrelay.js", import.meta.url).pathname;

test("SIGKILL right after a 250: the message is in the mailbox after restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-crash-"));
  const ini = join(dir, "chatmail.ini");
  writeFileSync(
    ini,
    [
      "[params]",
      "mail_domain = _crash.test",
      "listen_address = 127.0.0.1",
      ...["smtp_port", "submission_port", "imap_port", "imaps_port", "https_port", "http_port"].map(
        (k) => `${k} = off`,
      ),
      "submissions_port = 0",
      `data_dir = ${join(dir, "data")}`,
      "log_level = warn",
      // a busy test machine must not refuse the account
      "max_load_1m = 1000000",
      "min_available_memory = 0",
      "min_free_disk_space = 0",
      "",
    ].join("\n"),
  );
  const child = spawn(process.execPath, [BIN, "serve", "--config", ini], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        const m = /submissions 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once("exit", (code) => reject(new Error(`relay exited ${code}: ${stderr}`)));
    });
    const alice = "crashtest@_crash.test";
    const acked: string[] = [];
    const sends = Array.from({ length: 8 }, async (_, i) => {
      const msg = fixture("encrypted", alice, alice, `n${i}`);
      const r = await submit(port, alice, "crash-password", { from: alice, to: [alice] }, msg);
      if (r.ok) {
        acked.push(`n${i}`);
        if (acked.length === 1) child.kill("SIGKILL");
      }
    });
    await Promise.allSettled(sends);
    child.kill("SIGKILL");
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode ? resolve(null) : child.once("exit", resolve),
    );
    assert.ok(acked.length >= 1, "at least one message was acknowledged");

    const store = await openStore(join(dir, "data"));
    try {
      const box = await store.getMailbox(alice, "INBOX");
      assert.ok(box, "the account survived");
      const msgs = await store.listMessages(box.id);
      assert.ok(msgs.length >= acked.length, `${msgs.length} stored, ${acked.length} acknowledged`);
      for (const m of msgs) {
        const body = (await store.readBlob(m.blobId)).toString();
        assert.match(body, /-----END PGP MESSAGE-----/, "bodies are complete");
      }
    } finally {
      await store.close();
    }
  } finally {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
