/**
 * The SMTP greeting is not held back: smtp-server waits 100 ms on a timer
 * before it greets ("early talker" check); PromptSmtpServer greets without any
 * timer. With setTimeout mocked (it never fires unless the test ticks it), the
 * greeting must still arrive. The library's connection limit still answers 421.
 */
import assert from "node:assert/strict";
import { type AddressInfo, connect, type Socket } from "node:net";
import { test } from "node:test";
import { PromptSmtpServer } from "../../src/smtp/prompt-server.ts";

/** The first CRLF line, waited for without timers (setTimeout is mocked). */
async function firstLine(socket: Socket, limitMs: number): Promise<string> {
  let text = "";
  socket.on("data", (d: Buffer) => {
    text += d.toString("latin1");
  });
  const end = performance.now() + limitMs;
  while (!text.includes("\r\n")) {
    if (performance.now() > end) return `(nothing in ${limitMs} ms; got ${JSON.stringify(text)})`;
    await new Promise((r) => setImmediate(r));
  }
  return text.slice(0, text.indexOf("\r\n"));
}

test("the 220 greeting needs no timer to fire", async (t) => {
  const server = new PromptSmtpServer({
    secure: false,
    disableReverseLookup: true,
    authOptional: true,
    name: "mx.example.test",
    logger: false,
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const socket = connect((server.server.address() as AddressInfo).port, "127.0.0.1");
  try {
    assert.match(await firstLine(socket, 5000), /^220 mx\.example\.test ESMTP/);
  } finally {
    t.mock.timers.reset();
    socket.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test("maxClients still refuses with 421", async () => {
  const server = new PromptSmtpServer({
    secure: false,
    disableReverseLookup: true,
    authOptional: true,
    maxClients: 1,
    name: "mx.example.test",
    logger: false,
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.server.address() as AddressInfo).port;
  const first = connect(port, "127.0.0.1");
  const second = connect(port, "127.0.0.1");
  try {
    assert.match(await firstLine(first, 5000), /^220 /);
    assert.match(await firstLine(second, 5000), /^421 mx\.example\.test Too many connected clients/);
  } finally {
    first.destroy();
    second.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
