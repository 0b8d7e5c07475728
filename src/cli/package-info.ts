/**
 * This package's own package.json: the version for `chatrelay --version` and the
 * `chatrelay` bin script for the systemd unit. The file sits two folders above
 * this module both in the sources (src/cli/) and in the compiled package
 * (dist/cli/), in a checkout as in a global npm install.
 */
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = new URL("../../", import.meta.url);

interface PackageJson {
  name?: unknown;
  version?: unknown;
  bin?: unknown;
}

function packageJson(): PackageJson {
  return JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")) as PackageJson;
}

export function packageVersion(): string {
  const { version } = packageJson();
  return typeof version === "string" ? version : "unknown";
}

/** The absolute, symlink-free path of the script behind the `chatrelay` command. */
export function binScript(): string {
  const { bin, name } = packageJson();
  const rel =
    typeof bin === "string"
      ? bin
      : bin !== null &&
          typeof bin === "object" &&
          typeof (bin as Record<string, unknown>).chatrelay === "string"
        ? ((bin as Record<string, string>).chatrelay as string)
        : undefined;
  if (rel === undefined) throw new Error(`package.json of ${String(name)} names no chatrelay bin script`);
  return realpathSync(fileURLToPath(new URL(rel, ROOT)));
}
