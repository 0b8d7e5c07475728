/**
 * The metrics listener on mtail_address (port 3903 like the reference relay's
 * mtail): plain HTTP, GET /metrics renders the registry in the Prometheus text
 * format, everything else is 404 (405 for other methods). The relay refuses a
 * public mtail_address before calling this (relay.ts); there is no TLS and no
 * authentication, so it belongs on loopback or a private network.
 */
import { createServer, type Server } from "node:http";
import type { Metrics } from "./metrics.ts";

/** A scraper gets this long for its request; the listener holds few connections. */
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_CONNECTIONS = 32;

export function listenMetrics(metrics: Metrics, port: number, host: string): Promise<Server> {
  const server = createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS },
    (req, res) => {
      const path = (req.url ?? "").split("?")[0];
      if (path !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
        return;
      }
      metrics.render().then(
        (text) => {
          res.writeHead(200, { "content-type": metrics.contentType, "cache-control": "no-store" });
          res.end(req.method === "HEAD" ? undefined : text);
        },
        (err: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" }).end(`${(err as Error).message}\n`);
        },
      );
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.on("clientError", (_err, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
