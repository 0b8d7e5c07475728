/**
 * One "* n FETCH (...)" response (RFC 3501 §7.4.2) from a message record and,
 * only when an item needs it, the message body (read once) and its MIME
 * structure (parsed once). Items come out in the order they were asked for;
 * body sections are always literals, so 8-bit and CRLF data stay valid. The
 * response is returned in pieces so that message bodies are never copied.
 */
import type { MessageRecord } from "../store/types.ts";
import { bodyStructure } from "./mime/bodystructure.ts";
import { envelope } from "./mime/envelope.ts";
import { type MimePart, parseMessage } from "./mime/parse.ts";
import { partial, type SectionSpec, sectionBytes } from "./mime/section.ts";
import { flagList, formatInternalDate } from "./wire/encode.ts";
import { sectionLabel } from "./wire/fetch-att.ts";
import type { FetchAtt, Section } from "./wire/types.ts";

export interface MessageSource {
  readBlob(blobId: string): Promise<Buffer>;
}

function toSpec(section: Section): SectionSpec {
  const spec: SectionSpec = { part: section.part };
  if (section.text) spec.text = section.text;
  if (section.fields.length > 0) spec.fields = section.fields;
  return spec;
}

/** Whether fetching these items sets \Seen (RFC 3501 §6.4.5: BODY[...] without .PEEK, RFC822, RFC822.TEXT). */
export function setsSeen(atts: readonly FetchAtt[]): boolean {
  return atts.some(
    (a) => a.kind === "RFC822" || a.kind === "RFC822.TEXT" || (a.kind === "BODY[]" && !a.peek),
  );
}

export async function renderFetch(
  source: MessageSource,
  seq: number,
  rec: MessageRecord,
  atts: readonly FetchAtt[],
  addFlags: boolean,
): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  let text = `* ${seq} FETCH (`;
  let first = true;
  let raw: Buffer | null = null;
  let root: MimePart | null = null;
  const body = async (): Promise<Buffer> => {
    raw ??= await source.readBlob(rec.blobId);
    return raw;
  };
  const structure = async (): Promise<MimePart> => {
    root ??= parseMessage(await body());
    return root;
  };
  const item = (s: string) => {
    text += first ? s : ` ${s}`;
    first = false;
  };
  const literal = (label: string, data: Buffer) => {
    item(`${label} {${data.length}}\r\n`);
    chunks.push(Buffer.from(text, "utf8"), data);
    text = "";
  };
  let flagsDone = false;
  for (const a of atts) {
    switch (a.kind) {
      case "UID":
        item(`UID ${rec.uid}`);
        break;
      case "FLAGS":
        if (flagsDone) break;
        flagsDone = true;
        item(`FLAGS ${flagList(rec.flags)}`);
        break;
      case "INTERNALDATE":
        item(`INTERNALDATE ${formatInternalDate(rec.internalDate)}`);
        break;
      case "RFC822.SIZE":
        item(`RFC822.SIZE ${rec.size}`);
        break;
      case "ENVELOPE": {
        const env = envelope(await structure(), await body());
        // ENVELOPE may contain literals: emit as raw bytes.
        item("ENVELOPE ");
        chunks.push(Buffer.from(text, "utf8"), env);
        text = "";
        break;
      }
      case "BODYSTRUCTURE":
      case "BODY": {
        const bs = bodyStructure(await structure(), a.kind === "BODYSTRUCTURE", await body());
        item(`${a.kind} `);
        chunks.push(Buffer.from(text, "utf8"), bs);
        text = "";
        break;
      }
      case "RFC822":
        literal("RFC822", await body());
        break;
      case "RFC822.HEADER":
        literal("RFC822.HEADER", sectionBytes(await body(), await structure(), { part: [], text: "HEADER" }));
        break;
      case "RFC822.TEXT":
        literal("RFC822.TEXT", sectionBytes(await body(), await structure(), { part: [], text: "TEXT" }));
        break;
      case "BODY[]": {
        const whole = a.section.part.length === 0 && a.section.text === null;
        let data = whole ? await body() : sectionBytes(await body(), await structure(), toSpec(a.section));
        let label = `BODY${sectionLabel(a.section)}`;
        if (a.partial) {
          data = partial(data, a.partial.offset, a.partial.length);
          label += `<${a.partial.offset}>`;
        }
        literal(label, data);
        break;
      }
    }
  }
  // RFC 3501 §6.4.5: when fetching set \Seen, the new flags SHOULD be included.
  if (addFlags && !flagsDone) item(`FLAGS ${flagList(rec.flags)}`);
  text += ")\r\n";
  chunks.push(Buffer.from(text, "utf8"));
  return chunks;
}
