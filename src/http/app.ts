/**
 * The HTTPS request handler (docs/reference-relay.md §5.3): routes by Host and path to
 * /new, /mxdeliv, autoconfig, the MTA-STS policy, ACME challenges and the
 * website. Pure request/response; the listeners live in server.ts.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { BodyBudget } from "../net/body-budget.ts";
import { ACME_CHALLENGE_PREFIX, type AcmeChallenges } from "./acme-challenge.ts";
import { autoconfigXml, mtaStsPolicy } from "./discovery.ts";
import { handleMxDeliv, type MxDelivery } from "./mxdeliv.ts";
import { newCredentials, websiteNeedsLoginLink } from "./new-account.ts";
import type { PortsSource } from "./ports.ts";
import { ClientRateLimiter, NEW_ACCOUNT_RATE, type RateLimit } from "./rate-limit.ts";
import {
  methodNotAllowed,
  notFound,
  peerIp,
  redirect,
  requestHost,
  requestPath,
  send,
  sendJson,
} from "./respond.ts";
import { indexPage, infoPage, privacyPage, ROBOTS_TXT } from "./site/pages.ts";
import { resolveStatic, sendStatic } from "./site/static.ts";

export interface AppDeps {
  config: Config;
  accounts: { admission: { refusal(): Promise<string | undefined> } };
  delivery: MxDelivery;
  log: Logger;
  acme: AcmeChallenges;
  ports?: PortsSource;
  /** Per-client limit of /new; null = none (benchmarks). */
  newRateLimit?: RateLimit | null;
  now?: () => number;
  /** Message bodies in memory (/mxdeliv), shared with SMTP. */
  bodies: BodyBudget;
}

interface Cached {
  body: Buffer;
  type: string;
  etag: string;
}

const NEW_PATHS = new Set(["/new", "/cgi-bin/newemail.py"]);
const AUTOCONFIG_PATHS = new Set(["/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml"]);
const MTA_STS_PATH = "/.well-known/mta-sts.txt";

/** Headers of the built-in pages: nothing may load from elsewhere. */
const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "public, max-age=300",
};

function cached(body: string, type: string): Cached {
  const buf = Buffer.from(body, "utf8");
  return { body: buf, type, etag: `"${createHash("sha256").update(buf).digest("base64url").slice(0, 22)}"` };
}

export class HttpsApp {
  private readonly domain: string;
  private readonly pages = new Map<string, Cached>();
  private readonly robots: Cached;
  private readonly limiter: ClientRateLimiter | undefined;
  private readonly site: "builtin" | "disabled" | string;

  constructor(private readonly deps: AppDeps) {
    const c = deps.config;
    this.domain = c.mail_domain.toLowerCase();
    const html = "text/html; charset=utf-8";
    const index = cached(indexPage(c), html);
    this.pages.set("/", index);
    this.pages.set("/index.html", index);
    this.pages.set("/info.html", cached(infoPage(c), html));
    this.pages.set("/privacy.html", cached(privacyPage(c), html));
    this.robots = cached(ROBOTS_TXT, "text/plain; charset=utf-8");
    const limit = deps.newRateLimit === undefined ? NEW_ACCOUNT_RATE : deps.newRateLimit;
    this.limiter = limit ? new ClientRateLimiter(limit, deps.now) : undefined;
    this.site = c.www_folder === "" ? "builtin" : c.www_folder;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.route(req, res).catch((e: unknown) => {
      this.deps.log.error({ err: (e as Error).message }, "https request failed");
      if (!res.headersSent) send(res, 500, "Internal server error\n");
      else res.destroy();
    });
  };

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const head = req.method === "HEAD";
    const path = requestPath(req);
    if (path === undefined) {
      send(res, 400, "Bad request\n");
      return;
    }
    const host = requestHost(req);
    if (host === `www.${this.domain}`) {
      redirect(res, `https://${this.domain}${req.url ?? "/"}`, head);
      return;
    }
    if (host === `mta-sts.${this.domain}`) {
      if (path === MTA_STS_PATH)
        this.getOnly(req, res, () => cached(mtaStsPolicy(this.deps.config), "text/plain"));
      else notFound(res, head);
      return;
    }
    if (NEW_PATHS.has(path)) return this.newAccount(req, res);
    if (path === "/mxdeliv") {
      const { delivery, log, config, bodies } = this.deps;
      return handleMxDeliv(req, res, { delivery, log, bodies, maxMessageSize: config.max_message_size });
    }
    if (AUTOCONFIG_PATHS.has(path)) {
      this.getOnly(req, res, () =>
        cached(autoconfigXml(this.deps.config, this.deps.ports), "application/xml; charset=utf-8"),
      );
      return;
    }
    if (path.startsWith(ACME_CHALLENGE_PREFIX)) return this.acme(req, res, path);
    if (path === "/robots.txt") {
      this.getOnly(req, res, () => this.robots);
      return;
    }
    return this.website(req, res, path);
  }

  private getOnly(req: IncomingMessage, res: ServerResponse, make: () => Cached, extra: object = {}): void {
    if (req.method !== "GET" && req.method !== "HEAD") {
      methodNotAllowed(res, "GET, HEAD");
      return;
    }
    const c = make();
    if (req.headers["if-none-match"] === c.etag) {
      res.writeHead(304, { ETag: c.etag });
      res.end();
      return;
    }
    send(res, 200, c.body, { "Content-Type": c.type, ETag: c.etag, ...extra }, req.method === "HEAD");
  }

  private async newAccount(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const wait = this.limiter?.take(peerIp(req));
    if (wait !== undefined) {
      sendJson(
        res,
        429,
        { reason: `Too many requests, try again in ${wait} seconds.` },
        { "Retry-After": wait },
      );
      return;
    }
    if (req.method === "GET" || req.method === "HEAD") {
      // browsers hand the link to Delta Chat, which POSTs itself (docs/reference-relay.md §2.9)
      redirect(res, `dcaccount:https://${this.deps.config.mail_domain}/new`, req.method === "HEAD");
      return;
    }
    if (req.method !== "POST") {
      methodNotAllowed(res, "GET, HEAD, POST");
      return;
    }
    const refusal = await this.deps.accounts.admission.refusal();
    if (refusal) {
      this.deps.log.warn({ reason: refusal }, "/new refused");
      const reason = /switched off/.test(refusal)
        ? "This relay does not create new addresses at the moment."
        : "This relay is too busy to create new addresses right now. Try again later or choose another relay.";
      sendJson(res, 503, { reason });
      return;
    }
    sendJson(res, 200, newCredentials(this.deps.config, this.deps.ports));
  }

  private async acme(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const value = await this.deps.acme.get(path.slice(ACME_CHALLENGE_PREFIX.length));
    if (value === undefined) notFound(res, req.method === "HEAD");
    else this.getOnly(req, res, () => cached(value, "application/octet-stream"));
  }

  private async website(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const head = req.method === "HEAD";
    if (this.site === "disabled") {
      notFound(res, head);
      return;
    }
    if (req.method !== "GET" && !head) {
      methodNotAllowed(res, "GET, HEAD");
      return;
    }
    if (this.site !== "builtin") {
      const file = await resolveStatic(this.site, path);
      if (file && "redirect" in file) {
        redirect(res, file.redirect, head);
        return;
      }
      if (file) {
        sendStatic(res, file, head);
        return;
      }
    }
    if ((path === "/" || path === "/index.html") && websiteNeedsLoginLink(this.deps.config)) {
      // a fresh dclogin: link per visit; the account appears only on its first login
      const { config, ports } = this.deps;
      const fresh = cached(
        indexPage(config, newCredentials(config, ports).dclogin_url),
        "text/html; charset=utf-8",
      );
      this.getOnly(req, res, () => fresh, { ...PAGE_HEADERS, "Cache-Control": "no-store" });
      return;
    }
    const page = this.pages.get(path);
    if (page) this.getOnly(req, res, () => page, PAGE_HEADERS);
    else notFound(res, head);
  }
}
