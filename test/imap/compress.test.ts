/** COMPRESS=DEFLATE (RFC 4978): raw DEFLATE both ways, advertised only when configured. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type * as tls from "node:tls";
import * as zlib from "node:zlib";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

let on: ImapHarness;
let off: ImapHarness;

before(async () => {
  on = await startImap({ config: { imap_compress: true } });
  off = await startImap({ config: { imap_compress: false } });
});
after(async () => {
  await on.close();
  await off.close();
});

/** A client that speaks raw DEFLATE after COMPRESS. */
class DeflateClient {
  private text = "";
  private waiters: Array<() => void> = [];
  private readonly inflate = zlib.createInflateRaw();
  private readonly deflate = zlib.createDeflateRaw();

  constructor(readonly socket: tls.TLSSocket) {
    socket.removeAllListeners("data");
    socket.on("data", (c: Buffer) => this.inflate.write(c));
    this.inflate.on("data", (c: Buffer) => {
      this.text += c.toString("latin1");
      for (const w of this.waiters.splice(0)) w();
    });
    this.deflate.on("data", (c: Buffer) => socket.write(c));
  }

  send(line: string): void {
    this.deflate.write(line);
    this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
  }

  async until(tag: string): Promise<string> {
    const deadline = Date.now() + 10000;
    for (;;) {
      const i = this.text.indexOf(`\r\n${tag} `);
      const start = this.text.startsWith(`${tag} `) ? 0 : i >= 0 ? i + 2 : -1;
      if (start >= 0) {
        const end = this.text.indexOf("\r\n", start);
        if (end >= 0) {
          const out = this.text.slice(0, end + 2);
          this.text = this.text.slice(end + 2);
          return out;
        }
      }
      if (Date.now() > deadline) throw new Error(`timeout: ${this.text}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

test("COMPRESS DEFLATE: both directions compressed, pipelined commands", async () => {
  const user = await on.newUser();
  const body = "compress me ".repeat(2000);
  await on.deliver([user], message({ body }));
  const c = await loggedIn(on.port, user, on.password);
  const caps = await c.command("a", "CAPABILITY");
  assert.match(caps[0]!, / COMPRESS=DEFLATE\r\n$/);
  c.write("b COMPRESS DEFLATE\r\n");
  assert.equal(await c.read(), "b OK DEFLATE active.\r\n");
  const z = new DeflateClient(c.socket as tls.TLSSocket);
  z.send("c SELECT INBOX\r\nd UID FETCH 1 (BODY.PEEK[TEXT])\r\n");
  assert.match(await z.until("c"), /\* 1 EXISTS\r\n[\s\S]*c OK \[READ-WRITE\] Select completed\.\r\n$/);
  const fetched = await z.until("d");
  assert.ok(fetched.includes(body), "body arrives intact");
  z.send("e CAPABILITY\r\n");
  const again = await z.until("e");
  assert.doesNotMatch(again, /COMPRESS=DEFLATE/);
  z.send("f COMPRESS DEFLATE\r\n");
  assert.match(await z.until("f"), /f NO \[COMPRESSIONACTIVE\]/);
  c.close();
});

test("COMPRESS is neither advertised nor accepted when imap_compress is off", async () => {
  const c = await loggedIn(off.port, await off.newUser(), off.password);
  const caps = await c.command("a", "CAPABILITY");
  assert.doesNotMatch(caps[0]!, /COMPRESS/);
  assert.deepEqual(await c.command("b", "COMPRESS DEFLATE"), ["b BAD Unknown command.\r\n"]);
  assert.deepEqual(await c.command("c", "NOOP"), ["c OK NOOP completed.\r\n"]);
  c.close();
});
