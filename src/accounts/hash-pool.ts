/**
 * Password hashing off the event loop: SHA-512 crypt runs in worker threads
 * (about 7 ms per hash at 5000 rounds), so logins never stall other sessions.
 * The queue is bounded: past `maxWaiting` requests waiting for a worker, a new
 * one is refused at once with HashPoolBusy (a temporary failure for the client)
 * instead of making every login wait behind a flood. Passwords longer than
 * MAX_PASSWORD_BYTES never reach a worker (the crypt's cost grows with length).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { MAX_PASSWORD_BYTES } from "./types.ts";

/**
 * Requests allowed to wait for a worker. At ~7 ms a hash on 2 workers, 64 is
 * about a quarter of a second of work: a burst of reconnecting clients fits,
 * a flood is shed instead of delaying every login by seconds.
 */
export const MAX_WAITING = 64;

/** The pool's queue is full: try again later. */
export class HashPoolBusy extends Error {
  readonly code = "busy";
  constructor() {
    super("password hashing is overloaded");
  }
}

type Request = { id: number; op: "hash" | "verify"; password: string; hash?: string };
type Reply = { id: number; result?: string | boolean; error?: string };

// The worker loads the TypeScript module through tsx, whichever way the parent
// process was started (node --import tsx, or bin/chatrelay.js).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const { register } = await import(workerData.tsx);
  register();
  const m = await import(workerData.module);
  parentPort.on("message", (req) => {
    try {
      let result;
      if (req.op === "hash") result = m.sha512Crypt(req.password, m.newSalt());
      else {
        const p = m.parseSha512Crypt(req.hash);
        result = p !== undefined && m.sha512Crypt(req.password, p.salt, p.rounds) === req.hash;
      }
      parentPort.postMessage({ id: req.id, result });
    } catch (e) {
      parentPort.postMessage({ id: req.id, error: String(e) });
    }
  });
  parentPort.postMessage({ ready: true });
})();
`;

export class HashPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (v: string | boolean) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  private turn = 0;
  /** Requests accepted so far (tests check that a path did or did not hash). */
  submitted = 0;

  constructor(
    size = Math.min(2, Math.max(1, availableParallelism() - 1)),
    private readonly maxWaiting = MAX_WAITING,
  ) {
    const workerData = {
      tsx: import.meta.resolve("tsx/esm/api"),
      module: new URL("./sha512-crypt.ts", import.meta.url).href,
    };
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData });
      w.unref();
      w.on("message", (m: Reply & { ready?: boolean }) => {
        if (m.ready) return;
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.result!);
      });
      w.on("error", (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  private call(req: Omit<Request, "id">): Promise<string | boolean> {
    if (Buffer.byteLength(req.password) > MAX_PASSWORD_BYTES)
      return Promise.reject(new RangeError("password too long"));
    // Each worker runs one request; the rest wait in the workers' queues.
    if (this.pending.size >= this.workers.length + this.maxWaiting) return Promise.reject(new HashPoolBusy());
    this.submitted++;
    const id = this.nextId++;
    const worker = this.workers[this.turn++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id });
    });
  }

  /** "$6$salt$hash" for a new random salt. */
  async hash(password: string): Promise<string> {
    return (await this.call({ op: "hash", password })) as string;
  }

  async verify(password: string, hash: string): Promise<boolean> {
    return (await this.call({ op: "verify", password, hash })) as boolean;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
