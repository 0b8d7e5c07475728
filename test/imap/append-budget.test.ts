/**
 * APPEND literals count against the relay-wide budget for message bodies in
 * memory (max_buffered_bytes): while one client holds a large literal open, a
 * literal that does not fit is refused with NO [UNAVAILABLE] instead of "+",
 * and it fits again once the first client is gone.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

test("APPEND literals share the body budget; a literal that does not fit gets NO [UNAVAILABLE]", async () => {
  const MiB = 2 ** 20;
  const h = await startImap({ config: { max_buffered_bytes: 2 * MiB, max_message_size: 2 * MiB } });
  try {
    const a = await h.newUser();
    const b = await h.newUser();
    const holder = await loggedIn(h.port, a, h.password);
    holder.write(`A1 APPEND INBOX {${1.5 * MiB}}\r\n`);
    assert.match(await holder.read(), /^\+ /);
    holder.write(Buffer.alloc(MiB / 2, 0x61)); // half of it, then silence

    const other = await loggedIn(h.port, b, h.password);
    other.write(`B1 APPEND INBOX {${MiB}}\r\n`);
    assert.match(await other.read(), /^B1 NO \[UNAVAILABLE\]/);

    holder.close();
    await new Promise((r) => setTimeout(r, 200));
    const small = "Subject: x\r\n\r\nhello\r\n";
    const ok = await other.command("B2", `APPEND INBOX {${small.length}+}\r\n${small}`);
    assert.match(ok.at(-1)!, /^B2 OK/);
    other.write(`B3 APPEND INBOX {${MiB}}\r\n`);
    assert.match(await other.read(), /^\+ /, "the budget is free again");
    other.close();
  } finally {
    await h.close();
  }
});
