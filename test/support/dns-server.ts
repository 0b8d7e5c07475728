/**
 * A small authoritative DNS server for tests (RFC 1035), answering from an in-memory zone
 * over UDP and TCP on the same port. Unknown name → NXDOMAIN; known name without the asked
 * type → NOERROR with no answers (NODATA); names in `servfail` → SERVFAIL; names in `drop`
 * get no answer at all (the client times out).
 */
import dgram from "node:dgram";
import { createRequire } from "node:module";
import net from "node:net";

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface ZoneRecords {
  A?: string[];
  AAAA?: string[];
  MX?: MxRecord[];
  /** Either records of one string each (split into 255-byte strings on the wire), or records given as their strings. */
  TXT?: string[][] | string[];
  CNAME?: string;
  SRV?: { priority: number; weight: number; port: number; target: string }[];
  /** RFC 8659 §4.1: flags (128 = issuer critical), tag ("issue", "iodef", …) and value. */
  CAA?: { flags: number; tag: string; value: string }[];
}

/** Lower-case name (no trailing dot) → records. Mutable: changes apply to the next query. */
export type Zone = Map<string, ZoneRecords>;

export interface DnsQueryLogEntry {
  name: string;
  type: string;
  transport: "udp" | "tcp";
}

export interface DnsServer {
  host: string;
  port: number;
  /** "host:port", as accepted by createResolver / dns.setServers. */
  address: string;
  zone: Zone;
  /** Names (lower case) answered with SERVFAIL. */
  servfail: Set<string>;
  /** Names (lower case) whose queries are silently dropped. */
  drop: Set<string>;
  /** Every question received, in order. */
  queries: DnsQueryLogEntry[];
  close(): Promise<void>;
}

interface Question {
  name: string;
  type: string;
  class?: string;
}

interface Answer {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  data?: unknown;
  udpPayloadSize?: number;
}

interface Packet {
  id?: number;
  type?: "query" | "response";
  flags?: number;
  flag_rd?: boolean;
  questions?: Question[];
  answers?: Answer[];
  authorities?: Answer[];
  additionals?: Answer[];
}

interface DnsPacketModule {
  encode(packet: Packet): Buffer;
  decode(buf: Buffer): Packet;
  AUTHORITATIVE_ANSWER: number;
  TRUNCATED_RESPONSE: number;
  RECURSION_DESIRED: number;
  RECURSION_AVAILABLE: number;
}

// dns-packet ships no type declarations; describe the part used here.
const dnsPacket = createRequire(import.meta.url)("dns-packet") as DnsPacketModule;

const RCODE_NOERROR = 0;
const RCODE_FORMERR = 1;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const TTL = 60;
const MAX_CNAME_HOPS = 8;

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

function toZone(zone: Zone | Record<string, ZoneRecords>): Zone {
  if (zone instanceof Map) return zone;
  const map: Zone = new Map();
  for (const [name, records] of Object.entries(zone)) map.set(normalizeName(name), records);
  return map;
}

/** RFC 1035 §3.3.14: a TXT record is one or more <character-string>s of at most 255 bytes. */
function txtStrings(record: string | string[]): Buffer[] {
  if (Array.isArray(record)) return record.map((s) => Buffer.from(s));
  const bytes = Buffer.from(record);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255));
  return out.length > 0 ? out : [Buffer.alloc(0)];
}

function recordsOfType(name: string, type: string, records: ZoneRecords): Answer[] {
  const base = { name, class: "IN", ttl: TTL };
  switch (type) {
    case "A":
      return (records.A ?? []).map((data) => ({ ...base, type, data }));
    case "AAAA":
      return (records.AAAA ?? []).map((data) => ({ ...base, type, data }));
    case "MX":
      return (records.MX ?? []).map((mx) => ({
        ...base,
        type,
        data: { preference: mx.priority, exchange: mx.exchange },
      }));
    case "TXT":
      return (records.TXT ?? []).map((r) => ({ ...base, type, data: txtStrings(r) }));
    case "CNAME":
      return records.CNAME ? [{ ...base, type, data: records.CNAME }] : [];
    case "SRV":
      return (records.SRV ?? []).map((data) => ({ ...base, type, data }));
    case "CAA":
      return (records.CAA ?? []).map((data) => ({ ...base, type, data }));
    default:
      return [];
  }
}

interface Lookup {
  rcode: number;
  answers: Answer[];
  drop: boolean;
}

function lookup(server: DnsServer, question: Question): Lookup {
  const answers: Answer[] = [];
  let name = normalizeName(question.name);
  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    if (server.drop.has(name)) return { rcode: RCODE_SERVFAIL, answers: [], drop: true };
    if (server.servfail.has(name)) return { rcode: RCODE_SERVFAIL, answers: [], drop: false };
    const records = server.zone.get(name);
    if (!records) {
      // RFC 2308 §2.1: a CNAME chain ending in a missing name is still NXDOMAIN.
      return { rcode: RCODE_NXDOMAIN, answers, drop: false };
    }
    if (records.CNAME && question.type !== "CNAME") {
      answers.push(...recordsOfType(name, "CNAME", records));
      name = normalizeName(records.CNAME);
      continue;
    }
    answers.push(...recordsOfType(name, question.type, records));
    return { rcode: RCODE_NOERROR, answers, drop: false };
  }
  return { rcode: RCODE_SERVFAIL, answers: [], drop: false };
}

/** Builds the response, or null when the query is to be dropped. */
function respond(server: DnsServer, query: Packet, transport: "udp" | "tcp"): Buffer | null {
  const questions = query.questions ?? [];
  const base = dnsPacket.RECURSION_AVAILABLE | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0);
  if (questions.length !== 1) {
    return dnsPacket.encode({
      id: query.id,
      type: "response",
      flags: base | RCODE_FORMERR,
      questions,
    });
  }
  const question = questions[0] as Question;
  server.queries.push({ name: normalizeName(question.name), type: question.type, transport });
  const result = lookup(server, question);
  if (result.drop) return null;
  const flags = base | dnsPacket.AUTHORITATIVE_ANSWER | result.rcode;
  const full = dnsPacket.encode({
    id: query.id,
    type: "response",
    flags,
    questions,
    answers: result.answers,
  });
  if (transport === "udp") {
    // RFC 1035 §4.2.1 / RFC 6891 §6.2.5: answers over the UDP limit are truncated (TC set).
    const opt = (query.additionals ?? []).find((a) => a.type === "OPT");
    const limit = Math.max(512, opt?.udpPayloadSize ?? 512);
    if (full.length > limit) {
      return dnsPacket.encode({
        id: query.id,
        type: "response",
        flags: flags | dnsPacket.TRUNCATED_RESPONSE,
        questions,
      });
    }
  }
  return full;
}

function decodeQuery(buf: Buffer): Packet | null {
  try {
    const packet = dnsPacket.decode(buf);
    return packet.type === "query" ? packet : null;
  } catch {
    return null;
  }
}

async function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  return socket;
}

async function listenTcp(server: net.Server, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function serveTcpConnection(server: DnsServer, conn: net.Socket): void {
  let pending = Buffer.alloc(0);
  conn.on("error", () => conn.destroy());
  conn.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    // RFC 1035 §4.2.2: each message is prefixed with a two-byte length.
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const query = decodeQuery(pending.subarray(2, 2 + length));
      pending = pending.subarray(2 + length);
      if (!query) {
        conn.destroy();
        return;
      }
      const response = respond(server, query, "tcp");
      if (!response) continue;
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(response.length);
      conn.write(Buffer.concat([prefix, response]));
    }
  });
}

/** Starts the server on an ephemeral port of `opts.host` (default 127.0.0.1). */
export async function startDnsServer(
  zone: Zone | Record<string, ZoneRecords>,
  opts: { host?: string } = {},
): Promise<DnsServer> {
  const host = opts.host ?? "127.0.0.1";
  // UDP and TCP must share one port number; retry if the TCP side of the port is taken.
  for (let attempt = 0; ; attempt++) {
    const udp = await bindUdp(host, 0);
    const port = udp.address().port;
    const tcp = net.createServer();
    const connections = new Set<net.Socket>();
    try {
      await listenTcp(tcp, host, port);
    } catch (err) {
      udp.close();
      if (attempt < 20) continue;
      throw err;
    }
    const server: DnsServer = {
      host,
      port,
      address: net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`,
      zone: toZone(zone),
      servfail: new Set(),
      drop: new Set(),
      queries: [],
      async close() {
        for (const conn of connections) conn.destroy();
        await Promise.all([
          new Promise<void>((resolve) => udp.close(() => resolve())),
          new Promise<void>((resolve) => tcp.close(() => resolve())),
        ]);
      },
    };
    udp.on("error", () => {});
    udp.on("message", (msg, rinfo) => {
      const query = decodeQuery(msg);
      if (!query) return;
      const response = respond(server, query, "udp");
      if (response) udp.send(response, rinfo.port, rinfo.address);
    });
    tcp.on("connection", (conn) => {
      connections.add(conn);
      conn.on("close", () => connections.delete(conn));
      serveTcpConnection(server, conn);
    });
    return server;
  }
}
