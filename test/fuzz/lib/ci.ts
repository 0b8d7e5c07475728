/**
 * The short CI run of a fuzzer inside node:test: FUZZ_CI_SECONDS (default
 * `seconds`) of mutated inputs after every corpus entry; a finding fails the
 * test with its seed and the path of the saved input.
 */
import assert from "node:assert/strict";
import { type FuzzTarget, type RunResult, runFuzz } from "./engine.ts";

export async function ciRun(target: FuzzTarget, seconds: number, minRuns: number): Promise<RunResult> {
  const budget = Number(process.env.FUZZ_CI_SECONDS ?? seconds);
  // The suite runs files in parallel on small machines: a looser time bound than the long runs'.
  const loose = { ...target, slowMs: target.slowMs === undefined ? undefined : target.slowMs * 3 };
  const r = await runFuzz(loose, { seconds: budget, log: (l) => console.log(`# ${l}`) });
  if (r.finding) {
    const { error, file } = r.finding;
    assert.fail(
      `fuzz ${target.name}: ${error.message}\n  reproduce: FUZZ_SEED=${r.seed} npm run fuzz -- ${target.name}\n  or: npm run fuzz -- ${target.name} --replay ${file}\n${error.stack ?? ""}`,
    );
  }
  assert.ok(r.runs >= minRuns, `only ${r.runs} inputs in ${budget} s`);
  return r;
}
