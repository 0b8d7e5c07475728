/** METADATA (RFC 5464) as the reference relay serves it (docs/reference-relay.md §2.4). */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

let h: ImapHarness;
let bare: ImapHarness;

before(async () => {
  h = await startImap({
    config: {
      privacy_mail: "admin@example.org",
      iroh_relay: "https://iroh.example.org",
      turn_secret: "s3cret",
    },
  });
  bare = await startImap({ config: { privacy_mail: "", iroh_relay: undefined, turn_secret: "" } });
});
after(async () => {
  await h.close();
  await bare.close();
});

const ALL =
  'GETMETADATA "" (/shared/comment /shared/admin /shared/vendor/deltachat/irohrelay /shared/vendor/deltachat/turn /shared/vendor/deltachat/maxsmtprecipients /shared/vendor/deltachat/appversions)';

test("server entries: present values only, mailbox as a quoted string", async () => {
  const c = await loggedIn(bare.port, await bare.newUser(), bare.password);
  assert.deepEqual(await c.command("a", ALL), [
    '* METADATA "" (/shared/vendor/deltachat/maxsmtprecipients "1000")\r\n',
    "a OK Getmetadata completed.\r\n",
  ]);
  // Nothing to report: no METADATA line at all.
  assert.deepEqual(await c.command("b", 'GETMETADATA "" (/shared/comment /shared/admin)'), [
    "b OK Getmetadata completed.\r\n",
  ]);
  assert.deepEqual(await c.command("c", 'GETMETADATA "" /shared/vendor/deltachat/turn'), [
    "c OK Getmetadata completed.\r\n",
  ]);
  c.close();

  const d = await loggedIn(h.port, await h.newUser(), h.password);
  const r = await d.command("a", ALL);
  assert.match(
    r[0]!,
    /^\* METADATA "" \(\/shared\/admin "mailto:admin@example\.org" \/shared\/vendor\/deltachat\/irohrelay "https:\/\/iroh\.example\.org" \/shared\/vendor\/deltachat\/turn "_chatrelay\.test:3478:\d+:[A-Za-z0-9+/]+=*" \/shared\/vendor\/deltachat\/maxsmtprecipients "1000"\)\r\n$/,
  );
  // Entry names are case-insensitive; the refresh query.
  const t = await d.command("b", 'GETMETADATA "" (/Shared/Vendor/DeltaChat/TURN)');
  assert.match(t[0]!, /^\* METADATA "" \(\/shared\/vendor\/deltachat\/turn "[^"]+"\)\r\n$/);
  // RFC 5464 options form.
  assert.deepEqual(
    await d.command(
      "c",
      'GETMETADATA (MAXSIZE 5) "" (/shared/admin /shared/vendor/deltachat/maxsmtprecipients)',
    ),
    [
      '* METADATA "" (/shared/vendor/deltachat/maxsmtprecipients "1000")\r\n',
      "c OK [METADATA LONGENTRIES 24] Getmetadata completed.\r\n",
    ],
  );
  const deep = await d.command("d", 'GETMETADATA (DEPTH infinity) "" (/shared/vendor)');
  assert.match(
    deep[0]!,
    /^\* METADATA "" \(\/shared\/vendor\/deltachat\/irohrelay "[^"]+" \/shared\/vendor\/deltachat\/turn "[^"]+" \/shared\/vendor\/deltachat\/maxsmtprecipients "1000"\)\r\n$/,
  );
  assert.deepEqual(await d.command("e", 'GETMETADATA "" (shared/admin)'), ["e BAD Invalid entry name.\r\n"]);
  assert.deepEqual(await d.command("f", 'GETMETADATA "Nope" (/private/devicetoken)'), [
    "f NO [NONEXISTENT] Mailbox doesn't exist.\r\n",
  ]);
  d.close();
});

test("device tokens: literal {N+} and quoted forms, several tokens, expiry, NIL", async () => {
  const user = await h.newUser();
  const c = await loggedIn(h.port, user, h.password);
  c.write('a SETMETADATA "INBOX" (/private/devicetoken {9+}\r\nopenpgp:A)\r\n');
  assert.deepEqual(await c.until("a"), ["a OK Setmetadata completed.\r\n"]);
  // Synchronizing literal: continuation first.
  c.write('b SETMETADATA "INBOX" (/private/devicetoken {9}\r\n');
  assert.equal(await c.read(), "+ Ready for literal data\r\n");
  c.write("openpgp:B)\r\n");
  assert.deepEqual(await c.until("b"), ["b OK Setmetadata completed.\r\n"]);
  assert.deepEqual(await c.command("c", 'SETMETADATA "INBOX" (/private/devicetoken "openpgp:C")'), [
    "c OK Setmetadata completed.\r\n",
  ]);
  // Re-setting refreshes, it does not duplicate.
  assert.deepEqual(await c.command("d", 'SETMETADATA INBOX (/private/devicetoken "openpgp:A")'), [
    "d OK Setmetadata completed.\r\n",
  ]);
  assert.deepEqual(await c.command("e", 'GETMETADATA "INBOX" (/private/devicetoken)'), [
    '* METADATA "INBOX" (/private/devicetoken "openpgp:A openpgp:B openpgp:C")\r\n',
    "e OK Getmetadata completed.\r\n",
  ]);
  // Expired (older than 90 days) and future (more than 60 s ahead) tokens are dropped when read.
  const now = Math.floor(Date.now() / 1000);
  await h.store.setDeviceToken(user, "openpgp:OLD", now - 91 * 86400);
  await h.store.setDeviceToken(user, "openpgp:FUTURE", now + 3600);
  await h.store.setDeviceToken(user, "openpgp:RECENT", now - 89 * 86400);
  const r = await c.command("f", 'GETMETADATA "INBOX" (/private/devicetoken)');
  assert.match(r[0]!, /openpgp:RECENT/);
  assert.doesNotMatch(r[0]!, /OLD|FUTURE/);
  assert.deepEqual((await h.store.getDeviceTokens(user)).map((t) => t.token).sort(), [
    "openpgp:A",
    "openpgp:B",
    "openpgp:C",
    "openpgp:RECENT",
  ]);
  // NIL is accepted and changes nothing.
  assert.deepEqual(await c.command("g", 'SETMETADATA "INBOX" (/private/devicetoken NIL)'), [
    "g OK Setmetadata completed.\r\n",
  ]);
  assert.equal((await h.store.getDeviceTokens(user)).length, 4);
  // Anything else is refused.
  assert.deepEqual(await c.command("h", 'SETMETADATA "" (/shared/comment "hi")'), [
    "h NO Permission denied.\r\n",
  ]);
  assert.deepEqual(await c.command("i", 'SETMETADATA "Sent" (/private/devicetoken "x")'), [
    "i NO Permission denied.\r\n",
  ]);
  assert.deepEqual(await c.command("j", 'SETMETADATA "INBOX" (/private/comment "x")'), [
    "j NO Permission denied.\r\n",
  ]);
  assert.deepEqual(await c.command("k", 'SETMETADATA "INBOX" (/private/devicetoken "a b")'), [
    "k NO Invalid device token.\r\n",
  ]);
  assert.deepEqual(await c.command("l", 'GETMETADATA "Sent" (/private/devicetoken)'), [
    "l OK Getmetadata completed.\r\n",
  ]);
  c.close();
});

/** imapflow's low-level command interface (not in its type declarations). */
type Exec = (
  command: string,
  attributes: unknown[],
  options?: { untagged?: Record<string, (u: { attributes: unknown }) => Promise<void>> },
) => Promise<{ next(): void }>;

test("imapflow reads and writes metadata", async () => {
  const user = await h.newUser();
  const client = await h.imapflow(user);
  try {
    const exec = (client as unknown as { exec: Exec }).exec.bind(client);
    const r1 = await exec("SETMETADATA", [
      { type: "STRING", value: "INBOX" },
      [
        { type: "ATOM", value: "/private/devicetoken" },
        { type: "STRING", value: "openpgp:FLOW" },
      ],
    ]);
    r1.next();
    let seen: unknown = null;
    const r2 = await exec(
      "GETMETADATA",
      [{ type: "STRING", value: "INBOX" }, [{ type: "ATOM", value: "/private/devicetoken" }]],
      {
        untagged: {
          METADATA: async (u: { attributes: unknown }) => {
            seen = u.attributes;
          },
        },
      },
    );
    r2.next();
    assert.deepEqual(seen, [
      { type: "STRING", value: "INBOX" },
      [
        { type: "ATOM", value: "/private/devicetoken" },
        { type: "STRING", value: "openpgp:FLOW" },
      ],
    ]);
  } finally {
    await client.logout();
  }
});
