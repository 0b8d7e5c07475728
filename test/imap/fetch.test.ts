/** FETCH / UID FETCH: every item, sections, partials, \Seen rules, UID ranges; imapflow and imaplib. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { PY_CONNECT, runPython } from "./support/python.ts";
import { loggedIn } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap();
});
after(() => h.close());

const MULTIPART = [
  "From: Alice <alice@example.org>",
  "To: Bob <bob@example.org>",
  "Subject: Parts",
  "Date: Mon, 7 Feb 1994 21:52:25 -0800",
  "Message-ID: <parts@example.org>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain; charset=us-ascii",
  "",
  "first part",
  "--b1",
  "Content-Type: application/octet-stream",
  "Content-Transfer-Encoding: base64",
  "",
  "AAECAw==",
  "--b1--",
  "",
].join("\r\n");

test("every FETCH item, section and partial", async () => {
  const user = await h.newUser();
  const [rec] = [...(await h.deliver([user], MULTIPART)).values()];
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  const r = await c.command(
    "f1",
    "FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[TEXT]<0.6> BODY.PEEK[HEADER.FIELDS (subject)] BODY.PEEK[HEADER.FIELDS.NOT (From To Date Message-ID MIME-Version Content-Type)])",
  );
  const date = new Date(rec!.internalDate);
  const day = String(date.getUTCDate()).padStart(2, "0");
  assert.equal(r.length, 2);
  assert.equal(
    r[0],
    `* 1 FETCH (UID 1 FLAGS (\\Recent) INTERNALDATE "${day}-${date.toUTCString().slice(8, 11)}-${date.getUTCFullYear()} ${date.toISOString().slice(11, 19)} +0000" RFC822.SIZE ${MULTIPART.length} ` +
      "BODY[1] {10}\r\nfirst part " +
      "BODY[2.MIME] {77}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n " +
      "BODY[TEXT]<0> {6}\r\n--b1\r\n " +
      "BODY[HEADER.FIELDS (subject)] {18}\r\nSubject: Parts\r\n\r\n " +
      "BODY[HEADER.FIELDS.NOT (From To Date Message-ID MIME-Version Content-Type)] {18}\r\nSubject: Parts\r\n\r\n)\r\n",
  );
  const s = await c.command("f2", "FETCH 1 (ENVELOPE BODYSTRUCTURE BODY RFC822.HEADER)");
  assert.match(
    s[0]!,
    /^\* 1 FETCH \(ENVELOPE \("Mon, 7 Feb 1994 21:52:25 -0800" "Parts" \(\("Alice" NIL "alice" "example\.org"\)\) .* "<parts@example\.org>"\) BODYSTRUCTURE \(\("text" "plain" .*\) "mixed" .*\) BODY \(\("text" "plain" .*\) "mixed"\) RFC822\.HEADER \{\d+\}\r\nFrom: Alice/s,
  );
  // Nothing above set \Seen.
  assert.deepEqual(await c.command("f3", "FETCH 1 FLAGS"), [
    "* 1 FETCH (FLAGS (\\Recent))\r\n",
    "f3 OK Fetch completed.\r\n",
  ]);
  // BODY[] sets \Seen and reports FLAGS (RFC 3501 §6.4.5).
  const b = await c.command("f4", "FETCH 1 BODY[]<0.4>");
  assert.deepEqual(b, [
    "* 1 FETCH (BODY[]<0> {4}\r\nFrom FLAGS (\\Seen \\Recent))\r\n",
    "f4 OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await c.command("f5", "FETCH 1 (RFC822.TEXT)"), [
    `* 1 FETCH (RFC822.TEXT {${MULTIPART.length - MULTIPART.indexOf("--b1")}}\r\n${MULTIPART.slice(MULTIPART.indexOf("--b1"))})\r\n`,
    "f5 OK Fetch completed.\r\n",
  ]);
  // Partial beyond the end: empty string; a part that does not exist: empty.
  assert.deepEqual(await c.command("f6", "FETCH 1 (BODY.PEEK[]<100000.5> BODY.PEEK[7])"), [
    "* 1 FETCH (BODY[]<100000> {0}\r\n BODY[7] {0}\r\n)\r\n",
    "f6 OK Fetch completed.\r\n",
  ]);
  c.close();
});

test("macros, RFC822, and UID FETCH always includes UID", async () => {
  const user = await h.newUser();
  const raw = message({ subject: "macro" });
  await h.deliver([user], raw);
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  const fast = await c.command("f1", "FETCH 1 FAST");
  assert.match(fast[0]!, /^\* 1 FETCH \(FLAGS \(\\Recent\) INTERNALDATE "[^"]+" RFC822\.SIZE \d+\)\r\n$/);
  const all = await c.command("f2", "FETCH 1:* ALL");
  assert.match(
    all[0]!,
    /^\* 1 FETCH \(FLAGS \(\\Recent\) INTERNALDATE "[^"]+" RFC822\.SIZE \d+ ENVELOPE \(.*\)\)\r\n$/,
  );
  const full = await c.command("f3", "UID FETCH 1 FULL");
  assert.match(
    full[0]!,
    /^\* 1 FETCH \(UID 1 FLAGS \(\\Recent\) INTERNALDATE "[^"]+" RFC822\.SIZE \d+ ENVELOPE \(.*\) BODY \(.*\)\)\r\n$/,
  );
  assert.deepEqual(await c.command("f4", "UID FETCH 1 RFC822"), [
    `* 1 FETCH (UID 1 RFC822 {${raw.length}}\r\n${raw} FLAGS (\\Seen \\Recent))\r\n`,
    "f4 OK Fetch completed.\r\n",
  ]);
  c.close();
});

test("UID ranges past the end, * and invalid sequence numbers", async () => {
  const user = await h.newUser();
  for (let i = 0; i < 3; i++) await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  assert.deepEqual(await c.command("a", "UID FETCH 5:504 (UID)"), ["a OK Fetch completed.\r\n"]);
  assert.deepEqual(await c.command("b", "UID FETCH 5:* (UID)"), [
    "* 3 FETCH (UID 3)\r\n",
    "b OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await c.command("c", "UID FETCH 2,1 FLAGS"), [
    "* 1 FETCH (UID 1 FLAGS (\\Recent))\r\n",
    "* 2 FETCH (UID 2 FLAGS (\\Recent))\r\n",
    "c OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await c.command("d", "FETCH 4 FLAGS"), ["d BAD Invalid messageset\r\n"]);
  assert.deepEqual(await c.command("e", "FETCH * (UID)"), [
    "* 3 FETCH (UID 3)\r\n",
    "e OK Fetch completed.\r\n",
  ]);
  c.close();
});

test("EXAMINE never sets \\Seen; header names are case-insensitive", async () => {
  const user = await h.newUser();
  await h.deliver([user], message({ id: "case" }));
  const c = await loggedIn(h.port, user, h.password);
  assert.equal((await c.command("s", "EXAMINE INBOX")).pop(), "s OK [READ-ONLY] Examine completed.\r\n");
  assert.deepEqual(await c.command("a", "FETCH 1 (BODY[HEADER.FIELDS (message-id)])"), [
    "* 1 FETCH (BODY[HEADER.FIELDS (message-id)] {34}\r\nMessage-ID: <case@example.org>\r\n\r\n)\r\n",
    "a OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await c.command("b", "FETCH 1 FLAGS"), [
    "* 1 FETCH (FLAGS (\\Recent))\r\n",
    "b OK Fetch completed.\r\n",
  ]);
  c.close();
});

test("imapflow fetches envelope, structure and a 100 KiB body", async () => {
  const user = await h.newUser();
  const big = message({ subject: "big", body: "x".repeat(100 * 1024) });
  await h.deliver([user], MULTIPART);
  await h.deliver([user], big);
  const client = await h.imapflow(user);
  try {
    const lock = await client.getMailboxLock("INBOX");
    try {
      const got: Array<{ uid: number; subject?: string; type?: string; size?: number; len?: number }> = [];
      for await (const m of client.fetch("1:*", {
        uid: true,
        envelope: true,
        bodyStructure: true,
        size: true,
        source: true,
      })) {
        got.push({
          uid: m.uid,
          subject: m.envelope?.subject,
          type: m.bodyStructure?.type,
          size: m.size,
          len: m.source?.length,
        });
      }
      assert.deepEqual(got, [
        { uid: 1, subject: "Parts", type: "multipart/mixed", size: MULTIPART.length, len: MULTIPART.length },
        { uid: 2, subject: "big", type: "text/plain", size: big.length, len: big.length },
      ]);
      const one = await client.fetchOne("2", { source: true }, { uid: true });
      assert.ok(one, "message 2 fetched");
      assert.equal(one.source?.toString(), big);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
});

test("imaplib fetches and marks \\Seen", async () => {
  const user = await h.newUser();
  const raw = message({ subject: "py" });
  await h.deliver([user], raw);
  const out = await runPython(
    `${PY_CONNECT}
M.login(user, password)
M.select("INBOX")
typ, data = M.uid("FETCH", "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
print(typ, data[0][1].decode().strip())
typ, data = M.fetch("1", "(BODY[])")
print(typ, len(data[0][1]))
typ, data = M.fetch("1", "(FLAGS)")
print(typ, data[0].decode())
M.logout()
`,
    [String(h.port), user, h.password],
  );
  assert.equal(out, `OK Subject: py\nOK ${raw.length}\nOK 1 (FLAGS (\\Seen \\Recent))\n`);
});
