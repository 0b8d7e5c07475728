/**
 * Ports for servers that must be told their port before they listen (two
 * relays sharing one port number on two loopback addresses, Postfix, Dovecot).
 *
 * A port found with `listen(0)` and released is in the kernel's ephemeral range,
 * where every outgoing connection and every other `listen(0)` on the machine
 * may take it again before our server binds it. These ports are drawn at
 * random from below that range instead, where nothing is handed out by the
 * kernel, and are checked free on every given address.
 */
import { readFileSync } from "node:fs";
import net from "node:net";

function tryListen(host: string, port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(undefined));
    s.listen(port, host, () => resolve(s));
  });
}

/** [low, high) below the ephemeral range (net.ipv4.ip_local_port_range). */
function quietRange(): [number, number] {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]);
  } catch {
    // not Linux: the IANA dynamic range starts at 49152, 32768 is Linux's default
  }
  const high = Math.max(ephemeralLow, 12000);
  return [Math.max(10000, high - 12000), high];
}

export async function commonFreePort(hosts: string[]): Promise<number> {
  const [low, high] = quietRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    const held = await Promise.all(hosts.map((h) => tryListen(h, port)));
    await Promise.all(held.map((s) => new Promise((r) => (s ? s.close(r) : r(null)))));
    if (held.every(Boolean)) return port;
  }
  throw new Error(`no common free port on ${hosts.join(", ")}`);
}
