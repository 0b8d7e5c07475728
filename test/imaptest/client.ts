/**
 * A raw IMAP client connection for the test runner: writes what it is told and
 * hands back complete server responses, one at a time, with literals
 * (`{n}` and `~{n}`, RFC 3501 §4.3 / RFC 3516) read into the response text.
 */
import net from "node:net";
import tls from "node:tls";
import { asciiUpper, atomOf, type ImapArg, parseImapArgs } from "./args.ts";

export interface ImapResponse {
  kind: "untagged" | "tagged" | "continuation";
  /** The tag of a tagged response, "*" or "+" otherwise. */
  tag: string;
  /** Arguments after the tag (`*`, `+` or the command tag). */
  args: ImapArg[];
  /** The response as received, without the final CRLF (latin1). */
  text: string;
  /** Set when the arguments could not be parsed strictly. */
  parseError?: string;
}

export interface ConnectOptions {
  host: string;
  port: number;
  tls: boolean;
  connectTimeoutMs?: number;
}

const STATUS_WORDS = new Set(["OK", "NO", "BAD", "BYE", "PREAUTH"]);

/**
 * Parses the part after the tag. Human-readable resp-text after OK/NO/BAD/BYE
 * is free text, so if it does not tokenize, the `[code]` is tokenized and the
 * rest split on spaces.
 */
export function parseResponseArgs(rest: string): { args: ImapArg[]; error?: string } {
  const r = parseImapArgs(rest);
  if (r.ok) return { args: r.args };
  const words = rest.split(" ");
  const atoms = (s: string): ImapArg[] =>
    s
      .split(" ")
      .filter((w) => w !== "")
      .map((value) => ({ type: "atom", value }));
  let first = words[0] ?? "";
  let args: ImapArg[] = [];
  let tail = rest.slice(first.length + 1);
  if (/^\d+$/.test(first) && words.length > 1) {
    args.push({ type: "atom", value: first });
    first = words[1]!;
    tail = rest.slice(words[0]!.length + 1 + first.length + 1);
  }
  if (!STATUS_WORDS.has(asciiUpper(first))) return { args: atoms(rest), error: r.error };
  args.push({ type: "atom", value: first });
  if (tail.startsWith("[")) {
    const close = tail.indexOf("]");
    const code = close < 0 ? tail : tail.slice(0, close + 1);
    const c = parseImapArgs(code);
    args = args.concat(c.ok ? c.args : atoms(code));
    tail = close < 0 ? "" : tail.slice(close + 1);
  }
  return { args: args.concat(atoms(tail)) };
}

export function parseResponse(text: string): ImapResponse {
  if (text === "+" || text.startsWith("+ ")) {
    return { kind: "continuation", tag: "+", args: [], text };
  }
  const sp = text.indexOf(" ");
  const tag = sp < 0 ? text : text.slice(0, sp);
  const { args, error } = parseResponseArgs(sp < 0 ? "" : text.slice(sp + 1));
  const res: ImapResponse = { kind: tag === "*" ? "untagged" : "tagged", tag, args, text };
  if (error !== undefined) res.parseError = error;
  return res;
}

/** Capabilities from `* CAPABILITY ...` or an `[CAPABILITY ...]` response code, else null. */
export function capabilitiesOf(res: ImapResponse): string[] | null {
  const a = res.args;
  const first = atomOf(a[0]);
  if (res.kind === "untagged" && first !== null && asciiUpper(first) === "CAPABILITY") {
    return a.slice(1).flatMap((x) => (atomOf(x) !== null ? [atomOf(x)!] : []));
  }
  const m = /\[CAPABILITY ([^\]]*)\]/i.exec(res.text);
  return m ? m[1]!.split(" ").filter((x) => x !== "") : null;
}

export class ImapConnection {
  private buf: Buffer = Buffer.alloc(0);
  /** The response being assembled (text before a pending literal). */
  private partial = "";
  private literalLeft = -1;
  private readonly queue: ImapResponse[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;
  error: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => {
      this.error = e;
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
  }

  static connect(opts: ConnectOptions): Promise<ImapConnection> {
    return new Promise((resolve, reject) => {
      const socket = opts.tls
        ? tls.connect({ host: opts.host, port: opts.port, rejectUnauthorized: false, servername: undefined })
        : net.connect({ host: opts.host, port: opts.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${opts.host}:${opts.port} timed out`));
      }, opts.connectTimeoutMs ?? 10_000);
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      socket.once("error", fail);
      socket.once(opts.tls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        socket.off("error", fail);
        resolve(new ImapConnection(socket));
      });
    });
  }

  get closed(): boolean {
    return this.ended && this.queue.length === 0;
  }

  /** Writes raw octets (a latin1 string). */
  write(data: string): void {
    if (!this.ended && !this.socket.destroyed) this.socket.write(Buffer.from(data, "latin1"));
  }

  /** The next response, "closed" when the server closed and all was read, or "timeout". */
  async next(timeoutMs: number): Promise<ImapResponse | "closed" | "timeout"> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.queue.shift();
      if (r !== undefined) return r;
      if (this.ended) return "closed";
      const left = deadline - Date.now();
      if (left <= 0) return "timeout";
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = null;
          resolve();
        }, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  /** Closes the connection without LOGOUT. */
  close(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.destroy();
    });
  }

  private wake(): void {
    this.waiter?.();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.literalLeft >= 0) {
        if (this.buf.length < this.literalLeft) break;
        this.partial += this.buf.subarray(0, this.literalLeft).toString("latin1");
        this.buf = this.buf.subarray(this.literalLeft);
        this.literalLeft = -1;
        continue;
      }
      const nl = this.buf.indexOf(10);
      if (nl < 0) break;
      const line = this.buf.subarray(0, nl + 1).toString("latin1");
      this.buf = this.buf.subarray(nl + 1);
      const m = /~?\{(\d+)\}\r?\n$/.exec(line);
      if (m && !line.startsWith("+")) {
        this.partial += line;
        this.literalLeft = Number(m[1]);
        continue;
      }
      const text = this.partial + line.replace(/\r?\n$/, "");
      this.partial = "";
      this.queue.push(parseResponse(text));
    }
    this.wake();
  }
}
