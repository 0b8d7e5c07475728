/**
 * Child process of durability.test.ts: appends messages with `concurrency`
 * writers and prints "<uid> <seq>" for every append whose promise resolved.
 * Runs until killed. Usage: durability-child.ts <dataDir> <run> <concurrency>
 */
import { openStore } from "../../src/store/open.ts";
import { durabilityBody } from "./helpers.ts";

const [dataDir, runArg, concurrencyArg] = process.argv.slice(2);
const run = Number(runArg);
const store = await openStore(dataDir!);
await store.createAccount("durable@example.org", "h", 1);
const inbox = (await store.getMailbox("durable@example.org", "INBOX"))!;
let next = 0;

async function writer(): Promise<never> {
  for (;;) {
    const seq = next++;
    const rec = await store.append(inbox.id, { data: durabilityBody(run, seq) });
    // stdout to a pipe is synchronous on Linux: once written, the parent can read it.
    process.stdout.write(`${rec.uid} ${seq}\n`);
  }
}

await Promise.all(Array.from({ length: Number(concurrencyArg) }, writer));
