// SIGKILL durability through SMTP: every message the relay acknowledged with
// 250 is in the mailbox exactly once after a restart, over several kill
// cycles. Each message carries its own Message-ID, so a lost, duplicated or
// foreign message is told apart from the others.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openStore } from "../../src/store/open.ts";
import { fixture } from "../support/mail.ts";
import { submit } from "../support/smtp.ts";

const BIN = new URL("../../bin/chatrelay.js", import.meta.url).pathname;
const ALICE = "crashtest@_crash.test";
const CYCLES = 5;
const PER_CYCLE = 6;
/** The relay is killed right after this many acknowledgements in a cycle. */
const KILL_AFTER = 2;

function writeIni(dir: string): string {
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
  return ini;
}

async function startRelay(ini: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [BIN, "serve", "--config", ini], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /submissions 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`relay exited ${code}: ${stderr}`)));
  });
  return { child, port };
}

function killed(child: ChildProcess): Promise<unknown> {
  child.kill("SIGKILL");
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode ? resolve(null) : child.once("exit", resolve),
  );
}

/** A message whose Message-ID is `<token@_crash.test>`. */
function message(token: string): Buffer {
  const text = fixture("encrypted", ALICE, ALICE, token)
    .toString("utf8")
    .replace(/^Message-ID: .*$/m, `Message-ID: <${token}@_crash.test>`);
  return Buffer.from(text, "utf8");
}

/** Message-ID token → how often it is in the INBOX; every body must be complete. */
async function storedTokens(dataDir: string): Promise<Map<string, number>> {
  const store = await openStore(dataDir);
  try {
    const box = await store.getMailbox(ALICE, "INBOX");
    assert.ok(box, "the account survived");
    const counts = new Map<string, number>();
    for (const m of await store.listMessages(box.id)) {
      const body = (await store.readBlob(m.blobId)).toString();
      assert.match(body, /-----END PGP MESSAGE-----/, "bodies are complete");
      const token = /^Message-ID: <([^@>]+)@_crash\.test>/m.exec(body)?.[1] ?? "(none)";
      counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    return counts;
  } finally {
    await store.close();
  }
}

test("SIGKILL right after a 250, five times: each acknowledged message is there exactly once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-crash-"));
  const ini = writeIni(dir);
  const sent = new Set<string>();
  const acked = new Set<string>();
  let relay: ChildProcess | undefined;
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Each start after the first is a restart on the killed relay's data.
      const { child, port } = await startRelay(ini);
      relay = child;
      let ackedNow = 0;
      const sends = Array.from({ length: PER_CYCLE }, async (_, i) => {
        const token = `c${cycle}m${i}`;
        sent.add(token);
        const r = await submit(port, ALICE, "crash-password", { from: ALICE, to: [ALICE] }, message(token));
        if (r.ok) {
          acked.add(token);
          if (++ackedNow === KILL_AFTER) child.kill("SIGKILL");
        }
      });
      await Promise.allSettled(sends);
      await killed(child);
      assert.ok(ackedNow >= 1, `cycle ${cycle}: at least one message was acknowledged`);

      const counts = await storedTokens(join(dir, "data"));
      for (const token of acked) assert.equal(counts.get(token), 1, `acknowledged ${token} stored once`);
      for (const [token, n] of counts) {
        assert.ok(sent.has(token), `stored ${token} was never sent`);
        assert.equal(n, 1, `${token} stored ${n} times`);
      }
    }
  } finally {
    if (relay) await killed(relay);
    rmSync(dir, { recursive: true, force: true });
  }
});
