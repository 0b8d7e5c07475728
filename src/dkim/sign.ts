/**
 * DKIM signing (RFC 6376 §5) the way chatmail's OpenDKIM is set up: rsa-sha256,
 * c=relaxed/simple, the usual header fields plus Autocrypt and Content-Type, and
 * oversigning of From, Subject, To, … so that no such field can be added in transit.
 *
 * Why our own signer and not mailauth's `dkimSign` (we verify with mailauth):
 * - It cannot oversign: it puts into h= only the fields the message has, however often
 *   its headerList names them. The reference's OpenDKIM oversigns (chatmail/relay
 *   cmdeploy/src/cmdeploy/opendkim/opendkim.conf, OversignHeaders), and without it an
 *   Autocrypt or From field added above the signed one passes (test/dkim/oversign.test.ts).
 * - It is 3-6 times slower and allocates ten times the V8 heap per signature: it parses
 *   the PEM key for every signature and scans the header byte by byte
 *   (`npm run bench -- dkim-sign`, figures in docs/benchmarks.md).
 * Interop: python3-dkim (test/dkim/interop.test.ts) and OpenDKIM itself
 * (test/dkim/opendkim.test.ts) verify our signatures; Postfix delivery keeps them valid
 * (test/interop/postfix.test.ts).
 */
import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { domainToASCII } from "node:url";
import { relaxedHeader, selectSignedFields, simpleBodyHash } from "./canon.ts";
import { type HeaderField, parseHeaderBlock, toCrlf } from "./message.ts";

export interface SignOptions {
  /** d= */
  domain: string;
  /** s= */
  selector: string;
  privateKeyPem: string;
  /** t= (default: now). */
  signTime?: Date;
}

export class DkimSignError extends Error {
  override readonly name = "DkimSignError";
}

/** Signed when present (OpenDKIM's defaults, RFC 6376 §5.4.1, and what Delta Chat puts outside the encryption). */
const SIGNED = new Set([
  "from",
  "sender",
  "reply-to",
  "subject",
  "date",
  "message-id",
  "to",
  "cc",
  "in-reply-to",
  "references",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
  "content-id",
  "content-description",
  "content-disposition",
  "autocrypt",
  "autocrypt-setup-message",
  "secure-join",
  "secure-join-invitenumber",
  "secure-join-auth",
]);
const SIGNED_PREFIXES = ["resent-", "list-", "chat-"];
const NEVER_SIGNED = new Set(["resent-bcc"]);

/** Listed once more than they occur (OpenDKIM OversignHeaders). */
const OVERSIGNED = [
  "from",
  "reply-to",
  "subject",
  "date",
  "to",
  "cc",
  "in-reply-to",
  "references",
  "autocrypt",
];
const OVERSIGNED_PREFIXES = ["resent-", "list-"];

function isSigned(key: string): boolean {
  if (NEVER_SIGNED.has(key)) return false;
  return SIGNED.has(key) || SIGNED_PREFIXES.some((p) => key.startsWith(p));
}

/** The h= list: present fields bottom-up, then one extra of each oversigned name. */
export function signedHeaderNames(fields: HeaderField[]): string[] {
  const names: string[] = [];
  for (let i = fields.length - 1; i >= 0; i--) {
    const key = (fields[i] as HeaderField).key;
    if (isSigned(key)) names.push(key);
  }
  const extra = new Set(OVERSIGNED);
  for (const key of names) {
    if (!NEVER_SIGNED.has(key) && OVERSIGNED_PREFIXES.some((p) => key.startsWith(p))) extra.add(key);
  }
  return [...names, ...extra];
}

const LINE = 78;

/** Folds "tag=value;" pieces into lines of at most 78 characters (RFC 5322 §2.1.1). */
function fold(start: string, pieces: { text: string; sep: string }[]): string {
  const lines: string[] = [];
  let line = start;
  for (const { text, sep } of pieces) {
    if (line.length + sep.length + text.length > LINE && line.trim().length > 0) {
      lines.push(line);
      line = `\t${text}`;
    } else {
      line += sep + text;
    }
  }
  lines.push(line);
  return lines.join("\r\n");
}

let cachedKey: { pem: string; key: KeyObject } | undefined;

function privateKey(pem: string): KeyObject {
  if (cachedKey?.pem === pem) return cachedKey.key;
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new DkimSignError(`invalid DKIM private key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== "rsa") throw new DkimSignError("DKIM private key is not an RSA key");
  cachedKey = { pem, key };
  return key;
}

function checkLabel(what: string, value: string): string {
  const ascii = domainToASCII(value.toLowerCase().replace(/\.$/, "")) || value;
  if (!/^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$/.test(ascii))
    throw new DkimSignError(`invalid DKIM ${what}: ${value}`);
  return ascii;
}

/**
 * The DKIM-Signature field (folded, without final CRLF) for a message whose lines end in
 * CRLF. Throws DkimSignError when the message has no parsable header or the key is unusable.
 */
export function dkimSignatureField(message: Buffer, opts: SignOptions): string {
  const domain = checkLabel("domain", opts.domain);
  const selector = checkLabel("selector", opts.selector);
  const parsed = parseHeaderBlock(message);
  if (!parsed.ok) throw new DkimSignError(`cannot sign: ${parsed.reason}`);
  const names = signedHeaderNames(parsed.fields);
  const bh = simpleBodyHash(message, parsed.bodyOffset);
  const t = Math.floor((opts.signTime ?? new Date()).getTime() / 1000);
  const tags = ["v=1;", "a=rsa-sha256;", "c=relaxed/simple;", `d=${domain};`, `s=${selector};`, `t=${t};`];
  const pieces = tags.map((text) => ({ text, sep: " " }));
  names.forEach((name, i) => {
    const text = `${i === 0 ? "h=" : ""}${name}${i === names.length - 1 ? ";" : ":"}`;
    pieces.push({ text, sep: i === 0 ? " " : "" });
  });
  pieces.push({ text: `bh=${bh};`, sep: " " });
  // b= starts its own line so its value folds the same way whatever came before.
  const unsigned = `${fold("DKIM-Signature:", pieces)}\r\n\tb=`;
  // RFC 6376 §3.7: the selected fields, then this field with an empty b= and no final CRLF.
  const data =
    selectSignedFields(parsed.fields, names)
      .map((f) => relaxedHeader(f.raw))
      .join("") + relaxedHeader(unsigned).slice(0, -2);
  const b = sign("sha256", Buffer.from(data, "latin1"), privateKey(opts.privateKeyPem)).toString("base64");
  const folded = b.match(/.{1,72}/g)?.join("\r\n\t") ?? "";
  return unsigned + folded;
}

/**
 * Returns the message with a DKIM-Signature field prepended. Bare LF line ends are turned
 * into CRLF first (as they will be on the wire), so the result may differ from the input there.
 */
export async function signMessage(message: Buffer, opts: SignOptions): Promise<Buffer> {
  const crlf = toCrlf(message);
  const field = dkimSignatureField(crlf, opts);
  return Buffer.concat([Buffer.from(`${field}\r\n`, "latin1"), crlf]);
}
