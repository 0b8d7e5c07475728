/**
 * SMTP DATA through the gate on a live relay: mutated mail-data vectors are
 * submitted over implicit-TLS submission (AUTH PLAIN) on one connection.
 * Properties: every reply is a well-formed SMTP reply; the live verdict is
 * the pure gate's verdict for the same bytes (250, or the gate's code); the
 * relay logs no error; after the run a fresh client still submits an
 * encrypted message that is delivered.
 */
import assert from "node:assert/strict";
import { checkOutgoing } from "../../../src/policy/gate.ts";
import { inbox, startTestRelay, type TestRelay, until } from "../../support/relay.ts";
import { type FuzzTarget, loadCorpus } from "../lib/engine.ts";
import { capturingLogger, dataPayload, SmtpClient, toWireLines } from "../lib/live.ts";
import { ALICE, BOB, MAIL_DICTIONARY } from "./gate.ts";

export interface LiveGate {
  target: FuzzTarget;
  close(): Promise<void>;
}

export async function openGateLive(): Promise<LiveGate> {
  const captured = capturingLogger();
  const relay: TestRelay = await startTestRelay(
    { max_user_send_per_minute: 1_000_000 },
    { log: captured.log },
  );
  const sender = relay.newAddress();
  const rcpt = relay.newAddress();
  const fill = (b: Buffer) =>
    Buffer.from(b.toString("latin1").replaceAll(ALICE, sender).replaceAll(BOB, rcpt), "latin1");
  let client: SmtpClient | null = null;
  let transactions = 0;

  /** A submission connection logged in as `user` (the first login creates the account). */
  async function loggedIn(user: string): Promise<SmtpClient> {
    const c = await SmtpClient.connect(relay.submissionsPort);
    assert.equal((await c.reply()).code, 220);
    assert.equal((await c.command("EHLO fuzz.example")).code, 250);
    const plain = Buffer.from(`\0${user}\0${relay.password}`).toString("base64");
    assert.equal((await c.command(`AUTH PLAIN ${plain}`)).code, 235);
    return c;
  }

  async function session(): Promise<SmtpClient> {
    if (client && !client.closed) return client;
    client = await loggedIn(sender);
    return client;
  }

  (await loggedIn(rcpt)).close();

  const target: FuzzTarget = {
    name: "gate-live",
    mutator: { dictionary: MAIL_DICTIONARY.map((t) => t.replaceAll(ALICE, sender)), maxLength: 64 * 1024 },
    corpus: loadCorpus("gate").map((c) => ({ name: c.name, data: fill(c.data) })),
    async check(input) {
      const wire = toWireLines(input);
      const c = await session();
      assert.equal((await c.command(`MAIL FROM:<${sender}>`)).code, 250);
      assert.equal((await c.command(`RCPT TO:<${rcpt}>`)).code, 250);
      assert.equal((await c.command("DATA")).code, 354);
      c.write(dataPayload(wire));
      const r = await c.reply();
      transactions++;
      const pure = checkOutgoing({ mailFrom: sender, recipients: [rcpt], message: wire });
      const want = pure.ok ? 250 : pure.code;
      assert.equal(r.code, want, `live reply ${r.lines.join(" | ")}; pure gate ${JSON.stringify(pure)}`);
      assert.deepEqual(captured.errors, [], "the relay logged an error");
    },
  };

  return {
    target,
    async close() {
      client?.close();
      try {
        // A fresh client still works: an encrypted message is accepted and delivered.
        client?.close();
        client = null;
        const c = await session();
        const encrypted = fill(loadCorpus("gate").find((e) => e.name === "encrypted.eml")?.data as Buffer);
        const probe = Buffer.from(
          `X-Probe: after-fuzz-${transactions}\r\n${toWireLines(encrypted).toString("latin1")}`,
          "latin1",
        );
        assert.equal((await c.command(`MAIL FROM:<${sender}>`)).code, 250);
        const fresh = relay.newAddress();
        (await loggedIn(fresh)).close();
        assert.equal((await c.command(`RCPT TO:<${fresh}>`)).code, 250);
        assert.equal((await c.command("DATA")).code, 354);
        c.write(dataPayload(probe));
        assert.equal((await c.reply()).code, 250);
        await until("the probe in the recipient's INBOX", async () =>
          (await inbox(relay, fresh)).some((m) => m.includes(`after-fuzz-${transactions}`))
            ? true
            : undefined,
        );
        c.close();
      } finally {
        await relay.close();
      }
    },
  };
}
