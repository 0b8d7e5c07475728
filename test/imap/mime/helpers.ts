// Shared helpers for the MIME rendering tests.

import assert from "node:assert/strict";
import { parser } from "imapflow/lib/handler/imap-handler.js";
import { ImapStream } from "imapflow/lib/handler/imap-stream.js";
import { parseBodystructure, parseEnvelope } from "imapflow/lib/tools.js";
import { bodyStructure } from "../../../src/imap/mime/bodystructure.ts";
import { envelope } from "../../../src/imap/mime/envelope.ts";
import { type MimePart, parseMessage } from "../../../src/imap/mime/parse.ts";
import { findPart, type SectionSpec, sectionBytes } from "../../../src/imap/mime/section.ts";

/** Lines joined with CRLF, each line ended. */
export function crlf(...lines: string[]): Buffer {
  return Buffer.from(lines.map((l) => `${l}\r\n`).join(""), "latin1");
}

export function bs(raw: Buffer, extended = true): string {
  return bodyStructure(parseMessage(raw), extended).toString("latin1");
}

export function env(raw: Buffer): string {
  return envelope(parseMessage(raw), raw).toString("latin1");
}

export function sec(raw: Buffer, spec: SectionSpec): string {
  return sectionBytes(raw, parseMessage(raw), spec).toString("latin1");
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };

/** Splits a response into line and literals the way the client's stream does, then parses it. */
async function clientParse(response: Buffer): ReturnType<typeof parser> {
  const stream = new ImapStream({ logger: quiet } as ConstructorParameters<typeof ImapStream>[0]);
  const item = await new Promise<{ payload: Buffer; literals: Buffer[]; next: () => void }>(
    (resolve, reject) => {
      stream.once("data", resolve);
      stream.once("error", reject);
      stream.end(response);
    },
  );
  item.next();
  return parser(item.payload, { literals: item.literals });
}

interface ClientNode {
  part?: string;
  type: string;
  size?: number;
  childNodes?: ClientNode[];
  envelope?: unknown;
}

/**
 * Feeds our BODYSTRUCTURE and ENVELOPE to a real client's parser (imapflow)
 * and checks that every part it finds has the type we parsed and that its
 * size is the length of BODY[part]. Returns the number of parts checked.
 */
export async function clientCrossCheck(raw: Buffer): Promise<number> {
  const root = parseMessage(raw);
  const line = Buffer.concat([
    Buffer.from("* 1 FETCH (BODYSTRUCTURE "),
    bodyStructure(root, true),
    Buffer.from(" ENVELOPE "),
    envelope(root, raw),
    Buffer.from(")\r\n"),
  ]);
  const parsed = await clientParse(line);
  const items = parsed.attributes?.[1] as Array<Parameters<typeof parseBodystructure>[0]>;
  assert.ok(Array.isArray(items), "FETCH items");
  const tree = parseBodystructure(items[1]) as ClientNode;
  parseEnvelope(items[3]);
  let checked = 0;
  // imapflow numbers the parts below a top-level message/rfc822 without its
  // leading "1" (its root has no number): `prefix` puts it back.
  const walk = (node: ClientNode, part: MimePart | null, path: number[], prefix: number[] = []): void => {
    const where = path.join(".") || "root";
    assert.ok(part, `part ${where} exists`);
    checked++;
    if (part.kind === "multipart") {
      assert.equal(node.type, `multipart/${part.subtype}`, `type of ${where}`);
      const kids = node.childNodes ?? [];
      // a multipart without parts is sent with one empty text part that has no number
      if (part.children.length === 0) return;
      assert.equal(kids.length, part.children.length, `children of ${where}`);
      for (const child of kids) {
        const childPath = [...prefix, ...(child.part ?? "").split(".").map(Number)];
        walk(child, findPart(root, childPath), childPath, prefix);
      }
      return;
    }
    if (part.kind !== "other" || (part.type !== "multipart" && part.type !== "message")) {
      assert.equal(node.type, `${part.type}/${part.subtype}`, `type of ${where}`);
    }
    const own = path.length > 0 ? path : [1];
    assert.equal(node.size, sectionBytes(raw, root, { part: own }).length, `size of ${where}`);
    const inner = node.childNodes?.[0];
    // imapflow numbers the encapsulated message like its message/rfc822 part
    if (part.kind === "message" && inner !== undefined)
      walk(inner, part.message, [...own, 1], path.length === 0 ? [1] : prefix);
  };
  walk(tree, root, []);
  return checked;
}
