/**
 * Loaded before every test file (test/run.mjs). Property tests run with a new
 * random seed each time; fast-check prints `{ seed: S, path: "P" }` with a
 * failure. FC_SEED=S FC_PATH=P npm test -- <file> replays exactly that case.
 */
import fc from "fast-check";

const seed = process.env.FC_SEED;
if (seed !== undefined && seed !== "") {
  const path = process.env.FC_PATH;
  fc.configureGlobal({ seed: Number(seed), ...(path ? { path, endOnFailure: true } : {}) });
}
