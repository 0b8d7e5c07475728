// Every chatmail mail-data vector, classified as the reference filter does
// (fixtures README), through both directions of the gate.

import assert from "node:assert/strict";
import { test } from "node:test";
import { isEncrypted } from "../../src/policy/encryption.ts";
import { checkIncoming, checkOutgoing } from "../../src/policy/gate.ts";
import { parseMimeShape } from "../../src/policy/mime-shape.ts";
import { isSecureJoin } from "../../src/policy/securejoin.ts";
import { type FixtureName, fixture, fixtureNames } from "../support/mail.ts";
import { ALICE, BOB } from "./helpers.ts";

interface Row {
  encrypted: boolean;
  securejoin: boolean;
  /** Outgoing verdict, ALICE to BOB. */
  outgoing: number | "ok";
  /** Incoming verdict for a recipient that enforces E2EE. */
  incomingEnforced: number | "ok";
}

const TABLE: Record<FixtureName, Row> = {
  encrypted: { encrypted: true, securejoin: false, outgoing: "ok", incomingEnforced: "ok" },
  "fake-encrypted": { encrypted: false, securejoin: false, outgoing: 523, incomingEnforced: 523 },
  "securejoin-vc": { encrypted: false, securejoin: true, outgoing: "ok", incomingEnforced: "ok" },
  "securejoin-vc-fake": { encrypted: false, securejoin: false, outgoing: 523, incomingEnforced: 523 },
  plain: { encrypted: false, securejoin: false, outgoing: 523, incomingEnforced: 523 },
  literal: { encrypted: false, securejoin: false, outgoing: 523, incomingEnforced: 523 },
  mdn: { encrypted: false, securejoin: false, outgoing: 523, incomingEnforced: 523 },
  // From is MAILER-DAEMON@example.org, not the sender: outgoing fails the From check.
  "mailer-daemon": { encrypted: false, securejoin: false, outgoing: 500, incomingEnforced: "ok" },
  // Sent to someone else, so not the self-sent setup message exception.
  asm: { encrypted: false, securejoin: false, outgoing: 523, incomingEnforced: 523 },
};

const code = (v: { ok: boolean; code?: number }): number | "ok" => (v.ok ? "ok" : (v.code as number));

test("the table covers every fixture", () => {
  assert.deepEqual(fixtureNames(), Object.keys(TABLE).sort());
});

for (const [name, row] of Object.entries(TABLE) as [FixtureName, Row][]) {
  test(`fixture ${name}`, () => {
    const message = fixture(name, ALICE, BOB);
    const parsed = parseMimeShape(message);
    assert.ok(parsed.ok, name);
    for (const direction of ["outgoing", "incoming"] as const) {
      assert.equal(isEncrypted(parsed.shape, direction), row.encrypted, `${name} ${direction}`);
      assert.equal(isEncrypted(message, direction), row.encrypted, `${name} ${direction} (buffer)`);
    }
    assert.equal(isSecureJoin(parsed.shape), row.securejoin);

    const out = checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message });
    assert.equal(code(out), row.outgoing, `${name} outgoing ${JSON.stringify(out)}`);
    if (!out.ok && out.code === 523) assert.equal(out.text, "Encryption Needed: Invalid Unencrypted Mail");

    const enforced = checkIncoming({ mailFrom: ALICE, recipients: [BOB], message, enforceE2EE: () => true });
    assert.equal(code(enforced), row.incomingEnforced, `${name} incoming ${JSON.stringify(enforced)}`);
    assert.equal(enforced.needs, "dkim");

    // Old accounts without the marker take cleartext.
    const legacy = checkIncoming({ mailFrom: ALICE, recipients: [BOB], message, enforceE2EE: () => false });
    assert.equal(legacy.ok, true, `${name} incoming, no enforcement`);
  });
}

test("fixture asm.eml sent to oneself passes outgoing", () => {
  const message = fixture("asm", ALICE, ALICE);
  assert.deepEqual(checkOutgoing({ mailFrom: ALICE, recipients: [ALICE], message }), { ok: true });
  // ...but only with exactly one recipient, and not on the incoming side.
  assert.equal(checkOutgoing({ mailFrom: ALICE, recipients: [ALICE, BOB], message }).ok, false);
  const incoming = checkIncoming({ mailFrom: ALICE, recipients: [ALICE], message, enforceE2EE: () => true });
  assert.equal(incoming.ok, false);
});

test("fixture mailer-daemon.eml: the bounce exception is incoming only", () => {
  const message = fixture("mailer-daemon", ALICE, BOB);
  const daemon = "mailer-daemon@example.org";
  const out = checkOutgoing({ mailFrom: daemon, recipients: [BOB], message });
  assert.deepEqual(out, { ok: false, code: 523, text: "Encryption Needed: Invalid Unencrypted Mail" });
  const inc = checkIncoming({ mailFrom: "", recipients: [BOB], message, enforceE2EE: () => true });
  assert.equal(inc.ok, true);
  assert.equal(inc.envelopeFrom, "");
  assert.equal(inc.fromDomain, "example.org");
});
