/**
 * POST /mxdeliv: mail from another relay over HTTPS (reference §3.5, receiving
 * side): X-MAIL-FROM (absent for the null sender), one X-MAIL-TO per
 * recipient, the raw message as body. The same incoming checks as SMTP port
 * 25; 200 with the SMTP reply on success, 400 with the SMTP error otherwise,
 * 413 when the body is over max_message_size, 405 for other methods.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Envelope, Origin, Reply } from "../delivery/types.ts";
import type { Logger } from "../log.ts";
import { methodNotAllowed, peerIp, send } from "./respond.ts";

export interface MxDelivery {
  accept(envelope: Envelope, message: Buffer, origin: Origin): Promise<Reply>;
}

const ADDRESS = /^[^\s<>]+@[^\s<>]+$/;

function headerValues(req: IncomingMessage, name: string): string[] {
  return (req.headersDistinct[name] ?? []).map((v) => v.trim().replace(/^<(.*)>$/, "$1"));
}

/** Reads the body up to `limit` bytes; undefined when it is larger. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limit) {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks, size)));
    req.on("error", reject);
  });
}

export async function handleMxDeliv(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { delivery: MxDelivery; maxMessageSize: number; log: Logger },
): Promise<void> {
  if (req.method !== "POST") {
    methodNotAllowed(res, "POST");
    return;
  }
  const body = await readBody(req, deps.maxMessageSize);
  if (body === undefined) {
    send(res, 413, "552 Message exceeds maximum size\n", { Connection: "close" });
    return;
  }
  const from = headerValues(req, "x-mail-from");
  const recipients = headerValues(req, "x-mail-to");
  const mailFrom = from[0] ?? "";
  if (from.length > 1 || (mailFrom !== "" && !ADDRESS.test(mailFrom))) {
    send(res, 400, "501 5.1.7 Bad sender address syntax\n");
    return;
  }
  if (recipients.length === 0 || !recipients.every((r) => ADDRESS.test(r))) {
    send(res, 400, "501 5.1.3 Bad recipient address syntax\n");
    return;
  }
  let reply: Reply;
  try {
    reply = await deps.delivery.accept({ mailFrom, recipients }, body, {
      kind: "mx",
      peerIp: peerIp(req),
      via: "https",
    });
  } catch (e) {
    deps.log.error({ err: (e as Error).message }, "mxdeliv: delivery failed");
    reply = { code: 451, text: "4.3.0 Local error" };
  }
  const ok = reply.code >= 200 && reply.code < 300;
  send(res, ok ? 200 : 400, `${reply.code} ${reply.text}\n`);
}
