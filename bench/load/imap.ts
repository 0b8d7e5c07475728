/**
 * A deliberately tiny IMAP client over raw sockets (greeting, STARTTLS, LOGIN,
 * SELECT, IDLE, untagged EXISTS), so that the load generator's own cost stays
 * low with thousands of connections. It speaks to any IMAP4rev1 server.
 */
import net from "node:net";
import tls from "node:tls";

export type TlsMode = "implicit" | "starttls" | "none";

export interface ImapEndpoint {
  host: string;
  port: number;
  tls: TlsMode;
  /** SNI name; self-signed certificates are accepted unless `verify`. */
  servername?: string;
  verify?: boolean;
  timeoutMs?: number;
}

interface Pending {
  resolve: (line: string) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
  cmd: string;
}

/** RFC 3501 §4.3 quoted string. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export class ImapConn {
  exists = -1;
  existsAt = 0;
  /** Called with (n, time) for every untagged "* n EXISTS". */
  onExists: ((n: number, at: number) => void) | null = null;
  onClose: ((e: Error) => void) | null = null;
  closed = false;
  /** performance.now() marks: start, tls, greeting. */
  readonly t: { start: number; tls?: number; greeting?: number } = { start: 0 };
  private sock: net.Socket | null = null;
  private buf = "";
  private tagN = 0;
  private pending = new Map<string, Pending>();
  private greeted = false;
  private greetWaiter: Pending | null = null;
  private contWaiter: Pending | null = null;
  private idling = false;
  private closeError: Error | null = null;
  private readonly timeoutMs: number;

  constructor(private readonly ep: ImapEndpoint) {
    this.timeoutMs = ep.timeoutMs ?? 60_000;
  }

  private attach(sock: net.Socket): void {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on("data", (d: Buffer) => this.onData(d));
    sock.on("error", (e) => this.fail(e));
    sock.on("close", () => this.fail(new Error("connection closed")));
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = err;
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.greetWaiter?.reject(err);
    this.contWaiter?.reject(err);
    this.greetWaiter = this.contWaiter = null;
    this.onClose?.(err);
  }

  private onData(d: Buffer): void {
    this.buf += d.toString("latin1");
    let i = this.buf.indexOf("\r\n");
    while (i >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      this.onLine(line);
      i = this.buf.indexOf("\r\n");
    }
  }

  private onLine(line: string): void {
    if (line.startsWith("* ")) {
      if (!this.greeted) {
        this.greeted = true;
        const w = this.greetWaiter;
        this.greetWaiter = null;
        if (/^\* (OK|PREAUTH)/i.test(line)) w?.resolve(line);
        else w?.reject(new Error(`bad greeting: ${line}`));
        return;
      }
      const m = /^\* (\d+) EXISTS/i.exec(line);
      if (m) {
        const now = performance.now();
        this.exists = Number(m[1]);
        this.existsAt = now;
        this.onExists?.(this.exists, now);
      }
      return;
    }
    if (line.startsWith("+")) {
      const w = this.contWaiter;
      this.contWaiter = null;
      w?.resolve(line);
      return;
    }
    const sp = line.indexOf(" ");
    const tag = sp > 0 ? line.slice(0, sp) : line;
    const p = this.pending.get(tag);
    if (!p) return;
    this.pending.delete(tag);
    if (p.timer) clearTimeout(p.timer);
    const rest = line.slice(sp + 1);
    if (/^OK\b/i.test(rest)) p.resolve(rest);
    else p.reject(new Error(`${p.cmd} failed: ${rest}`));
  }

  private waiter(label: string): Promise<string> & { entry?: Pending } {
    let entry!: Pending;
    const promise = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label} timeout`)), this.timeoutMs);
      entry = {
        cmd: label,
        timer,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
    return Object.assign(promise, { entry });
  }

  private tlsOptions(extra: tls.ConnectionOptions): tls.ConnectionOptions {
    return {
      rejectUnauthorized: this.ep.verify ?? false,
      servername: this.ep.servername || undefined,
      ...extra,
    };
  }

  /** Resolves after the greeting (and after the STARTTLS upgrade in "starttls" mode). */
  async connect(): Promise<void> {
    this.t.start = performance.now();
    const greeting = this.waiter("greeting");
    this.greetWaiter = greeting.entry!;
    greeting.catch(() => {}); // awaited below, after the socket is up
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      let sock: net.Socket;
      if (this.ep.tls === "implicit") {
        sock = tls.connect(this.tlsOptions({ host: this.ep.host, port: this.ep.port }), () => {
          this.t.tls = performance.now();
          sock.off("error", onError);
          resolve();
        });
      } else {
        sock = net.connect({ host: this.ep.host, port: this.ep.port }, () => {
          sock.off("error", onError);
          resolve();
        });
      }
      sock.once("error", onError);
      this.attach(sock);
    });
    await greeting;
    this.t.greeting = performance.now();
    if (this.ep.tls === "starttls") {
      await this.command("STARTTLS");
      const plain = this.sock!;
      plain.removeAllListeners("data");
      plain.removeAllListeners("close");
      plain.removeAllListeners("error");
      await new Promise<void>((resolve, reject) => {
        const s = tls.connect(this.tlsOptions({ socket: plain }), () => {
          this.t.tls = performance.now();
          s.off("error", reject);
          resolve();
        });
        s.once("error", reject);
        this.attach(s);
      });
    }
  }

  command(cmd: string): Promise<string> {
    if (this.closed) return Promise.reject(this.closeError ?? new Error("closed"));
    const tag = `A${++this.tagN}`;
    const w = this.waiter(cmd.split(" ", 1)[0]!);
    this.pending.set(tag, w.entry!);
    this.sock!.write(`${tag} ${cmd}\r\n`);
    return w;
  }

  login(user: string, pass: string): Promise<string> {
    return this.command(`LOGIN ${quote(user)} ${quote(pass)}`);
  }

  async select(mailbox = "INBOX"): Promise<number> {
    await this.command(`SELECT ${quote(mailbox)}`);
    return this.exists;
  }

  /** Deletes every message of the selected mailbox. */
  async expungeAll(): Promise<void> {
    if (this.exists > 0) {
      await this.command("STORE 1:* +FLAGS.SILENT (\\Deleted)");
      await this.command("EXPUNGE");
      this.exists = 0;
    }
  }

  /** Sends IDLE and resolves on the continuation (RFC 2177). */
  idle(): Promise<string> {
    if (this.closed) return Promise.reject(this.closeError ?? new Error("closed"));
    const tag = `A${++this.tagN}`;
    const cont = this.waiter("IDLE");
    this.contWaiter = cont.entry!;
    // the tagged completion after DONE must not count as an orphan
    this.pending.set(tag, { cmd: "IDLE", timer: null, resolve() {}, reject() {} });
    this.sock!.write(`${tag} IDLE\r\n`);
    return cont.then((v) => {
      this.idling = true;
      return v;
    });
  }

  destroy(): void {
    this.closed = true;
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
    this.sock?.destroy();
  }

  logoutAndClose(): void {
    try {
      if (!this.closed && this.idling) this.sock!.write("DONE\r\n");
      if (!this.closed) this.sock!.write("Z LOGOUT\r\n");
    } catch {
      // closing anyway
    }
    this.destroy();
  }
}
