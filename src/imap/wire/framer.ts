/**
 * Splits the client's byte stream into complete commands: a command is a line,
 * or several line segments joined by literals (RFC 3501 §4.3, §7.5). A line that
 * ends in "{n}" announces a synchronizing literal: the server must answer "+"
 * before the client sends it (or a tagged BAD/NO instead, after which the client
 * abandons the command). "{n+}" is a non-synchronizing literal (LITERAL+,
 * RFC 7888): the data follows at once. Delta Chat 2.57 sends {n+} in SETMETADATA
 * whatever the server advertises, so it is always accepted.
 *
 * Limits: a line segment may be at most `maxLine` bytes; each literal and the
 * whole command are limited per command name (APPEND may carry a message).
 * Oversize input is answered and skipped so that the stream stays in step:
 * a long line is discarded up to its LF; an oversize synchronizing literal is
 * refused instead of "+"; an oversize non-synchronizing literal is read and
 * discarded together with the rest of its command, unless it exceeds
 * `maxDiscard`, when the connection must be closed.
 *
 * The framer is pulled: `next()` returns at most one frame and does no I/O, so the
 * session decides when to read more (backpressure) and when to answer.
 */
import { peekCommandName, peekTag } from "./command.ts";

export interface CommandLimits {
  /** Largest literal accepted in this command. */
  literal: number;
  /** Largest total size of the command, literals included. */
  command: number;
}

export interface FramerOptions {
  maxLine: number;
  /** Largest oversize non-synchronizing literal that is read and thrown away rather than closing. */
  maxDiscard: number;
  /** Limits for a command, by upper-cased name ("APPEND", "UID FETCH", ...). */
  limits(commandName: string): CommandLimits;
  /**
   * Asked before a literal of `size` bytes within the limits is read into
   * memory (the relay-wide body budget); false refuses the command as "busy".
   */
  admit?(size: number): boolean;
}

export type Frame =
  /** A complete command, literals inline, final CRLF removed. */
  | { kind: "command"; data: Buffer }
  /** A raw line (line mode: IDLE's DONE, an AUTHENTICATE response), CRLF removed. */
  | { kind: "line"; data: Buffer }
  /** A synchronizing literal was accepted: send a "+" continuation now. */
  | { kind: "continue"; size: number }
  /** The current command was refused and skipped; answer `tag` with BAD (or NO for `tooBig`). */
  | { kind: "reject"; tag: string | null; message: string; tooBig: boolean; command: string; busy?: boolean }
  /** The stream cannot be kept in step: say BYE and close. */
  | { kind: "fatal"; message: string };

const LF = 0x0a;
const CR = 0x0d;
/** Bytes of a rejected line kept to find its tag and command name. */
const HEAD = 256;

/** "{123}" or "{123+}" at the end of a line (CR already removed) → size and kind; else null. */
function literalAtEnd(line: Buffer): { size: number; nonSync: boolean; start: number } | null {
  let i = line.length - 1;
  if (i < 2 || line[i] !== 0x7d) return null;
  i--;
  const nonSync = line[i] === 0x2b;
  if (nonSync) i--;
  const end = i + 1;
  while (i >= 0 && line[i]! >= 0x30 && line[i]! <= 0x39) i--;
  if (i < 0 || line[i] !== 0x7b || end - (i + 1) === 0) return null;
  const digits = end - (i + 1);
  const size = digits > 15 ? Number.MAX_SAFE_INTEGER : Number(line.toString("latin1", i + 1, end));
  return { size, nonSync, start: i };
}

export class Framer {
  /** "command": assemble commands; "line": deliver raw lines. */
  mode: "command" | "line" = "command";

  private queue: Buffer[] = [];
  private queued = 0;
  /** Bytes of `queue` already scanned for LF without finding one. */
  private scanned = 0;

  /** The command being assembled. */
  private parts: Buffer[] = [];
  private partsLen = 0;
  private head: Buffer | null = null;
  private literalLeft = 0;
  /** Discarding the current command (oversize non-synchronizing literal). */
  private discarding: {
    tag: string | null;
    message: string;
    tooBig: boolean;
    command: string;
    busy?: boolean;
  } | null = null;
  /** Skipping to the end of an overlong line. */
  private skippingLine = false;

  constructor(private readonly opts: FramerOptions) {}

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.queued;
  }

  /** Whether a command is partly assembled (used to decide whether reading must continue). */
  get inCommand(): boolean {
    return this.partsLen > 0 || this.literalLeft > 0 || this.discarding !== null;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
  }

  /** Drops everything buffered (after STARTTLS: no plaintext may leak into the TLS session). */
  reset(): void {
    this.queue = [];
    this.queued = 0;
    this.scanned = 0;
    this.resetCommand();
    this.skippingLine = false;
  }

  /** Hands over the unconsumed raw bytes and forgets them (COMPRESS: they are compressed data). */
  drainRaw(): Buffer[] {
    const q = this.queue;
    this.queue = [];
    this.queued = 0;
    this.scanned = 0;
    return q;
  }

  private resetCommand(): void {
    this.parts = [];
    this.partsLen = 0;
    this.head = null;
    this.literalLeft = 0;
    this.discarding = null;
  }

  /** Removes and returns the first n queued bytes. */
  private take(n: number): Buffer {
    const first = this.queue[0]!;
    let out: Buffer;
    if (first.length === n) {
      this.queue.shift();
      out = first;
    } else if (first.length > n) {
      out = first.subarray(0, n);
      this.queue[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const b = this.queue[0]!;
        const k = Math.min(b.length, n - filled);
        b.copy(out, filled, 0, k);
        filled += k;
        if (k === b.length) this.queue.shift();
        else this.queue[0] = b.subarray(k);
      }
    }
    this.queued -= n;
    this.scanned = 0;
    if (this.queued === 0) this.release();
    return out;
  }

  /**
   * Everything was consumed: a fresh empty queue, so that an idle session holds
   * no array storage grown by earlier input (nor a chunk through it).
   */
  private release(): void {
    this.queue = [];
  }

  /** Drops n queued bytes (n <= queued). */
  private drop(n: number): void {
    while (n > 0) {
      const b = this.queue[0]!;
      if (b.length <= n) {
        this.queue.shift();
        n -= b.length;
        this.queued -= b.length;
      } else {
        this.queue[0] = b.subarray(n);
        this.queued -= n;
        n = 0;
      }
    }
    this.scanned = 0;
    if (this.queued === 0) this.release();
  }

  /** Offset of the next LF in the queue, or -1 (remembering how far it looked). */
  private findLF(): number {
    let base = 0;
    for (const b of this.queue) {
      if (base + b.length > this.scanned) {
        const from = Math.max(0, this.scanned - base);
        const i = b.indexOf(LF, from);
        if (i >= 0) return base + i;
      }
      base += b.length;
    }
    this.scanned = base;
    return -1;
  }

  /** The next line without its LF (and CR); null when no full line is buffered or it was too long. */
  private nextLine(): { line: Buffer } | { tooLong: Buffer } | null {
    for (;;) {
      const at = this.findLF();
      if (this.skippingLine) {
        if (at < 0) {
          this.drop(this.queued);
          return null;
        }
        this.drop(at + 1);
        this.skippingLine = false;
        continue;
      }
      if (at < 0) {
        if (this.queued > this.opts.maxLine) {
          const head = this.take(Math.min(HEAD, this.queued));
          this.drop(this.queued);
          this.skippingLine = true;
          return { tooLong: head };
        }
        return null;
      }
      if (at > this.opts.maxLine) {
        const head = this.take(Math.min(HEAD, at));
        this.skippingLine = true;
        return { tooLong: head };
      }
      const raw = this.take(at + 1);
      let end = at;
      if (end > 0 && raw[end - 1] === CR) end--;
      return { line: raw.subarray(0, end) };
    }
  }

  next(): Frame | null {
    for (;;) {
      // 1. Literal data of the command being assembled.
      if (this.literalLeft > 0) {
        if (this.queued === 0) return null;
        const n = Math.min(this.literalLeft, this.queued);
        if (this.discarding) this.drop(n);
        else {
          while (this.literalLeft > 0 && this.queued > 0) {
            const k = Math.min(this.literalLeft, this.queue[0]!.length);
            const chunk = this.take(k);
            this.parts.push(chunk);
            this.partsLen += k;
            this.literalLeft -= k;
          }
          continue;
        }
        this.literalLeft -= n;
        continue;
      }

      // 2. A line (segment).
      const got = this.nextLine();
      if (got === null) return null;
      if ("tooLong" in got) {
        const head = this.head ?? got.tooLong;
        const tag = peekTag(head);
        const command = peekCommandName(head);
        this.resetCommand();
        if (this.mode === "line") return { kind: "line", data: Buffer.alloc(0) };
        return { kind: "reject", tag, message: "Line too long", tooBig: false, command };
      }
      const line = got.line;
      if (this.mode === "line" && this.partsLen === 0 && !this.discarding) {
        return { kind: "line", data: line };
      }
      if (this.head === null) this.head = line.subarray(0, HEAD);
      const lit = literalAtEnd(line);

      if (this.discarding) {
        if (!lit) {
          const d = this.discarding;
          this.resetCommand();
          return { kind: "reject", ...d };
        }
        if (!lit.nonSync) {
          // The client waits for "+": answer now; it abandons the command.
          const d = this.discarding;
          this.resetCommand();
          return { kind: "reject", ...d };
        }
        this.literalLeft = lit.size;
        continue;
      }

      if (!lit) {
        this.parts.push(line);
        const data = this.parts.length === 1 ? line : Buffer.concat(this.parts);
        this.resetCommand();
        return { kind: "command", data };
      }

      const command = peekCommandName(this.head);
      const limits = this.opts.limits(command);
      const total = this.partsLen + line.length + 2 + lit.size;
      const tooBig = lit.size > limits.literal || total > limits.command;
      const busy = !tooBig && this.opts.admit !== undefined && !this.opts.admit(lit.size);
      if (tooBig || busy) {
        const tag = peekTag(this.head);
        const message = busy
          ? "Server busy, try again later"
          : lit.size > limits.literal
            ? "Literal too large"
            : "Command too large";
        if (!lit.nonSync) {
          this.resetCommand();
          return { kind: "reject", tag, message, tooBig, command, ...(busy ? { busy } : {}) };
        }
        if (lit.size > this.opts.maxDiscard) {
          this.resetCommand();
          this.drop(this.queued);
          return { kind: "fatal", message };
        }
        this.parts = [];
        this.partsLen = 0;
        this.discarding = { tag, message, tooBig, command, ...(busy ? { busy } : {}) };
        this.literalLeft = lit.size;
        continue;
      }
      this.parts.push(line, CRLF);
      this.partsLen += line.length + 2;
      this.literalLeft = lit.size;
      if (!lit.nonSync) return { kind: "continue", size: lit.size };
    }
  }
}

const CRLF = Buffer.from("\r\n");
