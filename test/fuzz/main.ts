/**
 * Long fuzzing runs: `npm run fuzz [-- name...]` runs each fuzzer (imap, gate,
 * gate-live, mime, dkim) for FUZZ_SECONDS (default 300) with a random seed,
 * or FUZZ_SEED's. `npm run fuzz -- gate --replay FILE` checks one saved input.
 * Findings are saved to test/fuzz/findings/ and printed; the exit code is 1
 * when there was one.
 */
import { readFileSync } from "node:fs";
import type { FuzzTarget } from "./lib/engine.ts";
import { runFuzz } from "./lib/engine.ts";
import { TARGETS } from "./targets/index.ts";

const args = process.argv.slice(2);
const replayAt = args.indexOf("--replay");
const replay = replayAt >= 0 ? args[replayAt + 1] : undefined;
const names = args.filter((a, i) => !a.startsWith("--") && (replayAt < 0 || i !== replayAt + 1));
const seconds = Number(process.env.FUZZ_SECONDS ?? 300);
const chosen = Object.keys(TARGETS).filter((n) => names.length === 0 || names.some((x) => n.includes(x)));
if (chosen.length === 0) {
  console.error(`no fuzzer matches ${names.join(" ")}; fuzzers: ${Object.keys(TARGETS).join(", ")}`);
  process.exit(2);
}

let found = 0;
for (const name of chosen) {
  const open = TARGETS[name] as () => Promise<{ target: FuzzTarget; close(): Promise<void> }>;
  const { target, close } = await open();
  try {
    if (replay !== undefined) {
      const input = readFileSync(replay);
      try {
        await target.check(input);
        console.log(`fuzz ${name}: ${replay} passes`);
      } catch (err) {
        found++;
        console.log(`fuzz ${name}: ${replay} fails: ${(err as Error).stack}`);
      }
      continue;
    }
    const r = await runFuzz(target, { seconds });
    if (r.finding) {
      found++;
      console.log(r.finding.error.stack);
    }
  } finally {
    await close();
  }
}
process.exit(found > 0 ? 1 : 0);
