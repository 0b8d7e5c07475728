/**
 * Dovecot's imaptest scripted compliance tests against chatrelay's IMAP server
 * (implicit TLS). One test per script; a script runs when every capability in
 * its `capabilities:` header is advertised after login (scripts without the
 * header test the base protocol and always run).
 *
 * IMAPTEST_TARGET=dovecot runs the same scripts against a throw-away local
 * Dovecot instead, for comparison (needs dovecot-imapd and root). There the two
 * scripts Dovecot 2.3 itself fails are expected to fail.
 * IMAPTEST_DIR overrides the script directory.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startDovecot } from "./dovecot.ts";
import {
  canRun,
  type ImaptestServer,
  runImaptest,
  type ServerCapabilities,
  serverCapabilities,
} from "./runner.ts";
import { loadScript, type ScriptFile } from "./script.ts";

const here = dirname(fileURLToPath(import.meta.url));
const dir = process.env.IMAPTEST_DIR ?? join(here, "..", "fixtures", "imaptest", "tests");
const target = process.env.IMAPTEST_TARGET === "dovecot" ? "dovecot" : "chatrelay";

/** Scripts Dovecot 2.3.19 fails itself: URLFETCH BINARY crashes it, urlauth2 expects the 2nd user's mailbox. */
const DOVECOT_FAILS = new Set(["urlauth-binary", "urlauth2"]);

interface Target {
  /** Connection details for one script run (a fresh account per script on chatrelay). */
  server(): ImaptestServer;
  close(): Promise<void>;
}

async function chatrelayTarget(): Promise<Target> {
  const { startTestRelay } = await import("../support/relay.ts");
  const relay = await startTestRelay();
  const password = "imaptest-password";
  // Accounts are created on first login: 9 characters [a-z0-9] @ the relay's domain.
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const address = () =>
    `${Array.from(randomBytes(9), (b, i) => alphabet[b % (i === 0 ? 26 : 36)]).join("")}@${relay.domain}`;
  return {
    server: () => ({
      host: relay.host,
      port: relay.imapsPort,
      tls: true,
      user: address(),
      password,
      user2: { user: address(), password },
    }),
    close: () => relay.close(),
  };
}

async function dovecotTarget(): Promise<Target> {
  const d = await startDovecot();
  let n = 0;
  return {
    server: () => {
      n++;
      return {
        host: d.host,
        port: d.port,
        tls: false,
        user: `imaptest${n}`,
        password: d.password,
        user2: { user: `imaptest${n}b`, password: d.password },
      };
    },
    close: () => d.stop(),
  };
}

const scripts: ScriptFile[] = readdirSync(dir)
  .filter((name) => !name.endsWith(".mbox") && !statSync(join(dir, name)).isDirectory())
  .sort()
  .map((name) => loadScript(join(dir, name)));

const server = target === "dovecot" ? await dovecotTarget() : await chatrelayTarget();
let caps: ServerCapabilities;
try {
  caps = await serverCapabilities(server.server());
} catch (e) {
  await server.close();
  throw e;
}
after(() => server.close());
const selected = scripts.filter((f) => canRun(f.script, caps));

test(`imaptest: every base-protocol script is selected for ${target}`, (t) => {
  const base = scripts.filter((f) => f.script.capabilities === null);
  assert.ok(base.length > 30, `only ${base.length} base scripts found in ${dir}`);
  assert.ok(base.every((f) => selected.includes(f)));
  const left = scripts.filter((f) => !selected.includes(f)).map((f) => f.script.name);
  t.diagnostic(`not run (capabilities not advertised): ${left.join(" ") || "none"}`);
});

for (const f of selected) {
  const name = f.script.name;
  const expectFail = target === "dovecot" && DOVECOT_FAILS.has(name);
  test(`imaptest ${name}${expectFail ? " (fails on Dovecot itself)" : ""}`, async () => {
    const r = await runImaptest(f.script, f.mbox, server.server(), { timeoutMs: 5_000 });
    assert.equal(r.skipped, undefined, `not run: ${r.skipped}`);
    if (expectFail) assert.equal(r.ok, false, "expected this script to fail on Dovecot");
    else assert.ok(r.ok, r.failures.join("\n\n"));
  });
}
