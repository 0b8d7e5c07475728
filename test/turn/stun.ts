/**
 * A minimal STUN/TURN client over UDP for tests: Binding (RFC 8489) and
 * Allocate/Refresh (RFC 8656) with the long-term credential mechanism
 * (RFC 8489 §9.2: key = MD5(username ":" realm ":" password),
 * MESSAGE-INTEGRITY = HMAC-SHA1 over the message up to the attribute).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import dgram from "node:dgram";

const MAGIC = 0x2112a442;

export const BINDING = 0x0001;
export const ALLOCATE = 0x0003;
export const REFRESH = 0x0004;
export const SUCCESS = 0x0100;
export const ERROR = 0x0110;

export const ATTR = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  LIFETIME: 0x000d,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_TRANSPORT: 0x0019,
  XOR_MAPPED_ADDRESS: 0x0020,
} as const;

export interface StunMessage {
  type: number;
  transactionId: Buffer;
  attrs: Map<number, Buffer>;
  raw: Buffer;
  /** Offset of MESSAGE-INTEGRITY in raw, if present. */
  integrityAt?: number;
}

function attribute(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
  return Buffer.concat([head, value, pad]);
}

function header(type: number, length: number, transactionId: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(length, 2);
  h.writeUInt32BE(MAGIC, 4);
  transactionId.copy(h, 8);
  return h;
}

export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash("md5").update(`${username}:${realm}:${password}`).digest();
}

export function encode(
  type: number,
  attrs: Array<[number, Buffer]>,
  key?: Buffer,
  transactionId = randomBytes(12),
): Buffer {
  const body = Buffer.concat(attrs.map(([t, v]) => attribute(t, v)));
  if (!key) return Buffer.concat([header(type, body.length, transactionId), body]);
  // the length covers MESSAGE-INTEGRITY itself (RFC 8489 §14.5)
  const signed = Buffer.concat([header(type, body.length + 24, transactionId), body]);
  const mac = createHmac("sha1", key).update(signed).digest();
  return Buffer.concat([signed, attribute(ATTR.MESSAGE_INTEGRITY, mac)]);
}

export function decode(raw: Buffer): StunMessage {
  if (raw.length < 20 || raw.readUInt32BE(4) !== MAGIC) throw new Error("not a STUN message");
  const length = raw.readUInt16BE(2);
  const attrs = new Map<number, Buffer>();
  let integrityAt: number | undefined;
  let i = 20;
  while (i + 4 <= 20 + length) {
    const t = raw.readUInt16BE(i);
    const l = raw.readUInt16BE(i + 2);
    if (t === ATTR.MESSAGE_INTEGRITY) integrityAt = i;
    if (!attrs.has(t)) attrs.set(t, raw.subarray(i + 4, i + 4 + l));
    i += 4 + l + ((4 - (l % 4)) % 4);
  }
  return { type: raw.readUInt16BE(0), transactionId: raw.subarray(8, 20), attrs, raw, integrityAt };
}

/** Whether the message's MESSAGE-INTEGRITY was made with `key`. */
export function integrityValid(m: StunMessage, key: Buffer): boolean {
  if (m.integrityAt === undefined) return false;
  const signed = Buffer.from(m.raw.subarray(0, m.integrityAt));
  signed.writeUInt16BE(m.integrityAt - 20 + 24, 2);
  const mac = createHmac("sha1", key).update(signed).digest();
  return mac.equals(m.attrs.get(ATTR.MESSAGE_INTEGRITY) ?? Buffer.alloc(0));
}

export function errorCode(m: StunMessage): number | undefined {
  const v = m.attrs.get(ATTR.ERROR_CODE);
  return v ? (v[2] as number) * 100 + (v[3] as number) : undefined;
}

export function xorAddress(v: Buffer | undefined): { ip: string; port: number } | undefined {
  if (!v) return undefined;
  if (v[1] !== 0x01) return undefined; // IPv4 only
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  const ip = (v.readUInt32BE(4) ^ MAGIC) >>> 0;
  return { ip: [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join("."), port };
}

export class StunClient {
  private readonly socket = dgram.createSocket("udp4");
  private readonly waiting = new Map<string, (m: StunMessage) => void>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.socket.on("message", (raw) => {
      try {
        const m = decode(raw);
        this.waiting.get(m.transactionId.toString("hex"))?.(m);
      } catch {
        // not STUN: ignore
      }
    });
  }

  /** Sends a request, retransmitting every 250 ms, until the answer or `timeoutMs`. */
  request(message: Buffer, timeoutMs = 3000): Promise<StunMessage> {
    const id = message.subarray(8, 20).toString("hex");
    return new Promise((resolve, reject) => {
      const send = () => this.socket.send(message, this.port, this.host);
      const again = setInterval(send, 250);
      const give = setTimeout(() => {
        clearInterval(again);
        this.waiting.delete(id);
        reject(new Error("no STUN answer"));
      }, timeoutMs);
      this.waiting.set(id, (m) => {
        clearInterval(again);
        clearTimeout(give);
        this.waiting.delete(id);
        resolve(m);
      });
      send();
    });
  }

  /**
   * TURN Allocate with long-term credentials (RFC 8656 §7.2): an
   * unauthenticated request for realm and nonce, then the signed one.
   */
  async allocate(
    username: string,
    password: string,
  ): Promise<{ response: StunMessage; key: Buffer; realm: string; nonce: Buffer }> {
    const transport = Buffer.from([17, 0, 0, 0]); // UDP
    const challenge = await this.request(encode(ALLOCATE, [[ATTR.REQUESTED_TRANSPORT, transport]]));
    if (challenge.type !== (ALLOCATE | ERROR) || errorCode(challenge) !== 401)
      throw new Error(`expected a 401 challenge, got type ${challenge.type} code ${errorCode(challenge)}`);
    const realm = (challenge.attrs.get(ATTR.REALM) ?? Buffer.alloc(0)).toString("utf8");
    const nonce = challenge.attrs.get(ATTR.NONCE) ?? Buffer.alloc(0);
    const key = longTermKey(username, realm, password);
    const response = await this.request(
      encode(
        ALLOCATE,
        [
          [ATTR.REQUESTED_TRANSPORT, transport],
          [ATTR.USERNAME, Buffer.from(username, "utf8")],
          [ATTR.REALM, Buffer.from(realm, "utf8")],
          [ATTR.NONCE, nonce],
        ],
        key,
      ),
    );
    return { response, key, realm, nonce };
  }

  /** Refresh with LIFETIME 0 releases an allocation (RFC 8656 §7.3). */
  release(username: string, realm: string, nonce: Buffer, key: Buffer): Promise<StunMessage> {
    return this.request(
      encode(
        REFRESH,
        [
          [ATTR.LIFETIME, Buffer.from([0, 0, 0, 0])],
          [ATTR.USERNAME, Buffer.from(username, "utf8")],
          [ATTR.REALM, Buffer.from(realm, "utf8")],
          [ATTR.NONCE, nonce],
        ],
        key,
      ),
    );
  }

  close(): void {
    this.socket.close();
  }
}
