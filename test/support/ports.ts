/** Free TCP ports that are free on every given loopback address at once. */
import net from "node:net";

function tryListen(host: string, port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(undefined));
    s.listen(port, host, () => resolve(s));
  });
}

export async function commonFreePort(hosts: string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await tryListen(hosts[0]!, 0);
    if (!first) continue;
    const port = (first.address() as net.AddressInfo).port;
    const others = await Promise.all(hosts.slice(1).map((h) => tryListen(h, port)));
    await Promise.all([first, ...others].map((s) => new Promise((r) => (s ? s.close(r) : r(null)))));
    if (others.every(Boolean)) return port;
  }
  throw new Error("no common free port");
}
