/**
 * A stand-in for the notification proxy (notifications.delta.chat/notify) on
 * loopback: records every POST body and answers with the status chosen per
 * token ("hang" = never answer, "hold" = answer 200 when released).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Answer = number | "hang" | "hold";

export interface ProxyRequest {
  body: string;
  contentType: string | undefined;
  method: string;
}

export interface NotifyProxy {
  url: string;
  requests: ProxyRequest[];
  /** Answer for a token; default 200. */
  answer: Map<string, Answer>;
  /** Resolves when `n` requests have arrived. */
  received(n: number): Promise<void>;
  /** Answers held requests with 200. */
  release(): void;
  close(): Promise<void>;
}

export async function startNotifyProxy(): Promise<NotifyProxy> {
  const requests: ProxyRequest[] = [];
  const answer = new Map<string, Answer>();
  const held: ServerResponse[] = [];
  const hanging: ServerResponse[] = [];
  let waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ body, contentType: req.headers["content-type"], method: req.method ?? "" });
      const a = answer.get(body) ?? 200;
      if (a === "hang") hanging.push(res);
      else if (a === "hold") held.push(res);
      else res.writeHead(a).end();
      waiters = waiters.filter((w) => {
        if (requests.length < w.n) return true;
        w.resolve();
        return false;
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    requests,
    answer,
    received(n) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    release() {
      for (const res of held.splice(0)) res.writeHead(200).end();
    },
    async close() {
      for (const res of [...held.splice(0), ...hanging.splice(0)]) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
