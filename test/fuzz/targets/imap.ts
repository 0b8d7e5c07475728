/**
 * The IMAP command parser with a live session: a real relay (startTestRelay),
 * implicit TLS, logged in with INBOX selected; each input is one mutated
 * command (a corpus line of Delta Chat's commands, without its tag) sent as
 * "F<n> <input>". Literals the input leaves open are completed so the server
 * ends at a command boundary (RFC 3501 §4.3, RFC 7888 LITERAL+). Properties:
 * every response line is well-formed (untagged, continuation, or a tagged
 * OK/NO/BAD; printable, no bare CR or LF outside literals); the command gets
 * its tagged reply or a BYE (then the connection closes); no reply says
 * [SERVERBUG] or "Internal error", and the relay logs no error; a NOOP after
 * a single-line command is answered (the session stays in step); the command
 * parser itself never throws. After the run a fresh client logs in and works.
 */
import assert from "node:assert/strict";
import { parseCommand } from "../../../src/imap/wire/command.ts";
import { RawClient } from "../../imap/support/raw-client.ts";
import { startTestRelay, type TestRelay } from "../../support/relay.ts";
import { type FuzzTarget, loadCorpus } from "../lib/engine.ts";
import { capturingLogger } from "../lib/live.ts";

const DICTIONARY = [
  " ",
  '"',
  "(",
  ")",
  "[",
  "]",
  "<",
  ">",
  "{",
  "}",
  "{0}\r\n",
  "{3}\r\nabc",
  "{5+}\r\nabcde",
  "{4294967296+}\r\n",
  "\\",
  "*",
  "%",
  ":",
  ",",
  "1:*",
  "*:1",
  "4294967295",
  "0",
  "NIL",
  "INBOX",
  '"INBOX"',
  "\\Seen",
  "\\Deleted",
  "BODY[",
  "BODY.PEEK[",
  "HEADER.FIELDS (",
  "]<0.10>",
  "1.2.MIME",
  "UID ",
  "CHARSET UTF-8 ",
  "\r\n",
  "\0",
  "\xff",
  "&AOk-",
  "&",
];

/** What the input needs so that the server's framer ends at the end of what is sent. */
interface Framing {
  /** Bytes completing a literal left open at the end, or null when it is larger than MAX_FILL. */
  filler: Buffer | null;
  /** Synchronizing literals: the server sends "+" for each. */
  sync: number;
}

const MAX_FILL = 64 * 1024;

export function framing(data: Buffer): Framing {
  let sync = 0;
  let i = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, i);
    if (nl < 0) return { filler: Buffer.alloc(0), sync };
    const m = /\{(\d+)(\+?)\}\r?$/.exec(data.toString("latin1", Math.max(i, nl - 40), nl));
    if (!m) {
      i = nl + 1;
      continue;
    }
    const n = Number(m[1]);
    if (m[2] === "") sync++;
    if (!Number.isSafeInteger(n) || n > MAX_FILL) return { filler: null, sync };
    const after = nl + 1 + n;
    if (after < data.length) {
      i = after;
      continue;
    }
    // The literal (or the line it is in) runs past the end: complete both.
    return { filler: Buffer.from(`${"x".repeat(after - data.length)}\r\n`, "latin1"), sync };
  }
}

/** The line parts of a response (literal data left out), each checked. */
export function responseProblem(r: string): string | null {
  if (!r.endsWith("\r\n")) return "no CRLF at the end";
  const first = /^(?:\* |\+ |\+\r\n|[^\x00-\x20\x7f-\xff(){%*"\\+]+ (?:OK|NO|BAD)[ \r])/.exec(r);
  if (!first) return "neither untagged, continuation nor a tagged OK/NO/BAD";
  let i = 0;
  while (i < r.length) {
    const nl = r.indexOf("\r\n", i);
    const line = r.slice(i, nl);
    if (/[\x00-\x08\x0a-\x1f\x7f-\xff]/.test(line))
      return `control or 8-bit character in ${JSON.stringify(line)}`;
    const lit = /\{(\d+)\}$/.exec(line);
    i = nl + 2 + (lit ? Number(lit[1]) : 0);
  }
  if (/\[SERVERBUG\]|^\* BYE Internal error/.test(r)) return "server bug";
  return null;
}

export interface LiveImap {
  target: FuzzTarget;
  stats: { commands: number; sessions: number; desyncs: number };
  close(): Promise<void>;
}

export async function openImapLive(): Promise<LiveImap> {
  const captured = capturingLogger();
  const relay: TestRelay = await startTestRelay({}, { log: captured.log });
  const user = relay.newAddress();
  const stats = { commands: 0, sessions: 0, desyncs: 0 };
  let c: RawClient | null = null;
  let n = 0;

  async function expectTagged(client: RawClient, tag: string, what: string): Promise<string[]> {
    const out = await client.until(tag);
    const last = out.at(-1) as string;
    assert.ok(last.startsWith(`${tag} OK`), `${what}: ${out.join("")}`);
    return out;
  }

  // The harness's own login/select, with messages to work on.
  async function fresh(): Promise<RawClient> {
    const s = await RawClient.connect(relay.imapsPort);
    assert.match(await s.read(), /^\* OK /);
    await s.login(user, relay.password);
    const box = await s.command("L2", "SELECT INBOX");
    const exists = Number(/\* (\d+) EXISTS/.exec(box.join(""))?.[1] ?? 0);
    for (let i = exists; i < 4; i++) {
      const msg = `From: a@b.example\r\nSubject: ${i}\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n`;
      s.write(`L3 APPEND INBOX {${msg.length}+}\r\n${msg}\r\n`);
      await expectTagged(s, "L3", "APPEND");
    }
    return s;
  }

  async function reconnect(): Promise<RawClient> {
    c?.close();
    stats.sessions++;
    c = await fresh();
    return c;
  }

  const target: FuzzTarget = {
    name: "imap",
    mutator: { dictionary: DICTIONARY, maxLength: 4096 },
    corpus: loadCorpus("imap"),
    async check(input) {
      let body = input;
      while (body.length > 0 && (body.at(-1) === 0x0a || body.at(-1) === 0x0d)) body = body.subarray(0, -1);
      const tag = `F${++n}`;
      const line = Buffer.concat([Buffer.from(`${tag} `), body, Buffer.from("\r\n")]);
      const parsed = parseCommand(line.subarray(0, line.length - 2));
      assert.equal(typeof parsed.ok, "boolean", "parseCommand gave no result");
      const { filler, sync } = framing(line);
      const simple =
        sync === 0 && filler !== null && filler.length === 0 && !body.includes(0x0a) && !body.includes(0x0d);
      const s = c && !c.closed ? c : await reconnect();
      stats.commands++;
      s.write(filler ? Buffer.concat([line, filler]) : line);
      let continuations = 0;
      let bye = false;
      // Up to the tagged reply (or BYE and close).
      for (;;) {
        let r: string;
        try {
          r = await s.read(filler === null ? 1000 : 5000);
        } catch (err) {
          if (filler === null || !simple) {
            // A literal too large to complete, or the stream not in step: start over.
            stats.desyncs++;
            await reconnect();
            return;
          }
          if (bye) return void (await reconnect());
          throw new Error(`no reply to ${tag}: ${(err as Error).message.slice(0, 300)}`);
        }
        const problem = responseProblem(r);
        assert.equal(problem, null, `${problem}: ${JSON.stringify(r.slice(0, 300))}`);
        if (r.startsWith("* BYE")) bye = true;
        if (r.startsWith("+")) {
          continuations++;
          if (/idling/i.test(r)) s.write("DONE\r\n");
          else if (continuations > sync) s.write("*\r\n"); // a SASL challenge: cancel (RFC 3501 §6.2.2)
        }
        if (r.startsWith(`${tag} `)) break;
      }
      assert.deepEqual(captured.errors, [], "the relay logged an error");
      if (bye || /^COMPRESS/i.test(body.toString("latin1"))) return void (await reconnect());
      // In step: a NOOP (or, now and then, a SELECT) is answered.
      const syncTag = `S${n}`;
      s.write(`${syncTag} ${n % 25 === 0 ? "SELECT INBOX" : "NOOP"}\r\n`);
      for (;;) {
        let r: string;
        try {
          r = await s.read(simple ? 5000 : 1000);
        } catch (err) {
          if (!simple || s.closed) {
            stats.desyncs++;
            return void (await reconnect());
          }
          throw new Error(`no reply to the NOOP after ${tag}: ${(err as Error).message.slice(0, 300)}`);
        }
        const problem = responseProblem(r);
        assert.equal(problem, null, `${problem}: ${JSON.stringify(r.slice(0, 300))}`);
        if (r.startsWith("+") && /idling/i.test(r)) s.write("DONE\r\n");
        if (r.startsWith(`${syncTag} `)) break;
      }
    },
  };

  return {
    target,
    stats,
    async close() {
      c?.close();
      try {
        // A fresh client logs in and works.
        const s = await fresh();
        const fetch = await s.command("P1", "UID FETCH 1:* (UID FLAGS RFC822.SIZE BODYSTRUCTURE)");
        assert.match(fetch.at(-1) as string, /^P1 OK/);
        assert.match(fetch.join(""), /FETCH \(UID \d+/);
        assert.match((await s.command("P2", "NOOP")).at(-1) as string, /^P2 OK/);
        assert.match((await s.command("P3", "LOGOUT")).at(-1) as string, /^P3 OK/);
        s.close();
        assert.deepEqual(captured.errors, [], "the relay logged an error");
      } finally {
        await relay.close();
      }
    },
  };
}
