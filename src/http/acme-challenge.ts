/**
 * ACME HTTP-01 challenge responses (RFC 8555 §8.3): the key authorization for
 * `/.well-known/acme-challenge/<token>`, from memory (set by an in-process ACME
 * client) or from a file `<data_dir>/acme-challenge/<token>` (an external one).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export const ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/** RFC 8555 §8.3: the token is base64url. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export class AcmeChallenges {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly folder: string | undefined) {}

  static inDataDir(dataDir: string): AcmeChallenges {
    return new AcmeChallenges(join(dataDir, "acme-challenge"));
  }

  set(token: string, keyAuthorization: string): void {
    if (!TOKEN.test(token)) throw new Error("invalid ACME token");
    this.tokens.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.tokens.delete(token);
  }

  async get(token: string): Promise<string | undefined> {
    if (!TOKEN.test(token)) return undefined;
    const mem = this.tokens.get(token);
    if (mem !== undefined) return mem;
    if (!this.folder) return undefined;
    try {
      return (await readFile(join(this.folder, token), "utf8")).trim();
    } catch {
      return undefined;
    }
  }
}
