/**
 * DKIM signing, our signer (src/dkim/sign.ts) against mailauth's (`dkimSign` of
 * mailauth/lib/dkim/sign.js, the library we verify with), on a 4 KiB and a 1 MiB
 * chatmail message (the PGP/MIME fixture with a longer armored body), RSA-2048,
 * relaxed/simple as the reference's OpenDKIM:
 * - signatures per second, one after another on one core, the two in alternating turns
 *   (the median turn of each), so that load from elsewhere hits both alike;
 * - allocations per signature: V8 heap bytes and external (Buffer) bytes, from
 *   v8.GCProfiler (growth between samples plus what each GC freed), and GCs per 1000;
 * - the h= each one writes, and that both signatures verify (src/dkim/verify.ts).
 * mailauth gets our h= names without the repeats (it lists only the fields present)
 * and its output is prepended to the message, as production needs the signed message.
 * Run directly: `npx tsx bench/dkim-sign.ts [seconds]`.
 */
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";
import type { DKIMSignOptions } from "mailauth";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { dkimTxtRecord, generateDkimKey } from "../src/dkim/keys.ts";
import { parseHeaderBlock } from "../src/dkim/message.ts";
import { signedHeaderNames, signMessage } from "../src/dkim/sign.ts";
import { verifyAligned } from "../src/dkim/verify.ts";
import { round1 } from "./load/stats.ts";

const DOMAIN = "bench.test";
const SELECTOR = "opendkim";
const FIXTURE = new URL("../test/fixtures/chatmail-mail-data/encrypted.eml", import.meta.url);

/** The fixture, filled in, with base64 lines added to its armored body up to `size` bytes. */
export function chatmailMessage(size: number): Buffer {
  const base = readFileSync(FIXTURE, "utf8")
    .replace(/\r?\n/g, "\r\n")
    .replaceAll("{from_addr}", `alice@${DOMAIN}`)
    .replaceAll("{to_addr}", "bob@other.test")
    .replaceAll("{subject}", "[...]");
  const at = base.indexOf("-----BEGIN PGP MESSAGE-----\r\n\r\n") + 31;
  const line = `${"AbCd0123+/".repeat(7).slice(0, 64)}\r\n`;
  const lines = Math.max(0, Math.floor((size - Buffer.byteLength(base)) / line.length));
  return Buffer.from(base.slice(0, at) + line.repeat(lines) + base.slice(at), "latin1");
}

type Signer = (msg: Buffer) => Promise<Buffer>;

interface Allocations {
  heapBytesPerSignature: number;
  externalBytesPerSignature: number;
  gcsPer1000: number;
}

async function allocations(sign: Signer, msg: Buffer, n: number): Promise<Allocations> {
  // Buffers freed by a GC are then freed when it ends, not later on a helper thread, so
  // each GC's before/after figures show them.
  v8.setFlagsFromString("--no-concurrent-array-buffer-sweeping");
  const profiler = new v8.GCProfiler();
  profiler.start();
  const start = v8.getHeapStatistics();
  for (let i = 0; i < n; i++) await sign(msg);
  const end = v8.getHeapStatistics();
  const gcs = profiler.stop()?.statistics ?? [];
  let heap = end.used_heap_size - start.used_heap_size;
  let external = end.external_memory - start.external_memory;
  for (const gc of gcs) {
    heap += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    external += gc.beforeGC.heapStatistics.externalMemory - gc.afterGC.heapStatistics.externalMemory;
  }
  return {
    heapBytesPerSignature: Math.round(heap / n),
    externalBytesPerSignature: Math.round(external / n),
    gcsPer1000: round1((gcs.length * 1000) / n),
  };
}

/** Signatures per second: `rounds` turns each, taken in alternation; the median turn of each. */
async function rates(signers: Signer[], msg: Buffer, seconds: number, rounds = 6): Promise<number[]> {
  for (const sign of signers) for (let i = 0; i < 3; i++) await sign(msg); // warm-up
  const turns = signers.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++)
    for (const [k, sign] of signers.entries()) {
      let n = 0;
      const t0 = performance.now();
      const end = t0 + (seconds * 1000) / rounds;
      while (performance.now() < end) {
        await sign(msg);
        n++;
      }
      turns[k]?.push((n * 1000) / (performance.now() - t0));
    }
  return turns.map((t) => round1(t.sort((a, b) => a - b)[Math.floor(t.length / 2)] as number));
}

function hList(signed: Buffer): string {
  const field = /^DKIM-Signature:(.*?)\r\n(?![ \t])/is.exec(signed.toString("latin1"))?.[1] ?? "";
  return /(?:^|;)\s*h=([^;]*)/.exec(field)?.[1]?.replace(/\s+/g, "") ?? "";
}

export async function benchDkimSign(opts: { seconds?: number } = {}): Promise<Record<string, unknown>> {
  const seconds = opts.seconds ?? 3;
  const key = await generateDkimKey();
  const resolver = { resolveTxt: async () => [[dkimTxtRecord(key.publicKeyPem)]] };
  const ours: Signer = (msg) =>
    signMessage(msg, { domain: DOMAIN, selector: SELECTOR, privateKeyPem: key.privateKeyPem });
  const theirs: Signer = async (msg) => {
    const parsed = parseHeaderBlock(msg);
    const names = parsed.ok ? [...new Set(signedHeaderNames(parsed.fields))] : [];
    const { signatures, errors } = await dkimSign(msg, {
      canonicalization: "relaxed/simple",
      algorithm: "rsa-sha256",
      // a string, not the string[] of its types: an array makes it fall back to its default list
      headerList: names.join(":") as unknown as string[],
      signatureData: [{ signingDomain: DOMAIN, selector: SELECTOR, privateKey: key.privateKeyPem }],
    } as DKIMSignOptions);
    if (errors.length) throw new Error(`mailauth: ${String(errors[0])}`);
    return Buffer.concat([Buffer.from(signatures, "latin1"), msg]);
  };
  // mailauth turns the PEM into a key object for every signature; ours keeps it
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) createPrivateKey(key.privateKeyPem);
  const pemParseMs = Math.round(((performance.now() - t0) / 50) * 1000) / 1000;
  const out: Record<string, unknown> = { seconds, keyBits: 2048, pemParseMs };
  const detail: Record<string, unknown> = {};
  for (const [label, size, n] of [
    ["4KiB", 4096, 200],
    ["1MiB", 1 << 20, 20],
  ] as const) {
    const msg = chatmailMessage(size);
    const signers = [
      ["ours", ours],
      ["mailauth", theirs],
    ] as const;
    const perSec = await rates(
      signers.map(([, sign]) => sign),
      msg,
      seconds,
    );
    for (const [k, [name, sign]] of signers.entries()) {
      const signed = await sign(msg);
      const verified = await verifyAligned(signed, DOMAIN, resolver);
      if (!verified.ok) throw new Error(`${name} ${label}: ${JSON.stringify(verified)}`);
      const alloc = await allocations(sign, msg, n);
      out[`${name}_${label}_signaturesPerSec`] = perSec[k];
      out[`${name}_${label}_heapKiBPerSig`] = round1(alloc.heapBytesPerSignature / 1024);
      out[`${name}_${label}_externalKiBPerSig`] = round1(alloc.externalBytesPerSignature / 1024);
      detail[`${name}_${label}`] = {
        messageBytes: msg.length,
        perSec: perSec[k],
        ...alloc,
        h: hList(signed),
      };
    }
  }
  out.detail = detail;
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchDkimSign({ seconds: Number(process.argv[2] ?? 3) });
  console.log(JSON.stringify(r, null, 2));
}
