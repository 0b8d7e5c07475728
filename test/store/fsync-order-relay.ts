/**
 * Child process of fsync-order.test.ts: a test relay on a given data dir that
 * prints its submissions port, an address and its password as one JSON line,
 * then serves until its stdin closes (or it is killed).
 * Usage: fsync-order-relay.ts <dataDir>
 */
import { startTestRelay } from "../support/relay.ts";

const r = await startTestRelay({ data_dir: process.argv[2]! });
const ready = { port: r.submissionsPort, address: r.newAddress(), password: r.password };
process.stdout.write(`${JSON.stringify(ready)}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  void r.close().then(() => process.exit(0));
});
