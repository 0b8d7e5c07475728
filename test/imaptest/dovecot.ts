/**
 * A throw-away Dovecot IMAP server on 127.0.0.1 for checking the imaptest
 * runner against the implementation the scripts were written for. Everything
 * lives in a temp directory (config, sockets, logs, maildirs); no system file
 * is read or changed. Needs the `dovecot` binary (Debian: dovecot-imapd) and
 * root (Dovecot switches to the `mail` user for mail access).
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commonFreePort } from "../support/ports.ts";
import { ImapConnection } from "./client.ts";
import { serverCapabilities } from "./session.ts";

export interface DovecotServer {
  host: string;
  port: number;
  /** Any user logs in with this password (static passdb). */
  password: string;
  /** Post-login CAPABILITY list. */
  capabilities: string[];
  stop(): Promise<void>;
}

const DOVECOT_BIN = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"];

export function dovecotBinary(): string | null {
  return DOVECOT_BIN.find((p) => existsSync(p)) ?? null;
}

function uidOf(name: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (line === undefined) throw new Error(`no system user ${name}`);
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function config(dir: string, port: number, password: string, mail: { uid: number; gid: number }): string {
  return `# generated for a test run
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = static
  args = password=${password}
}
userdb {
  driver = static
  args = uid=${mail.uid} gid=${mail.gid} home=${dir}/home/%u
}
mail_location = maildir:~/Maildir
mail_uid = ${mail.uid}
mail_gid = ${mail.gid}
first_valid_uid = ${mail.uid}
first_valid_gid = ${mail.gid}
mail_attribute_dict = file:%h/dovecot-attributes
imap_urlauth_host = *
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}

async function waitForGreeting(port: number, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = existsSync(logPath) ? readFileSync(logPath, "utf8") : "";
      throw new Error(`dovecot exited with ${child.exitCode}\n${log}`);
    }
    try {
      const c = await ImapConnection.connect({ host: "127.0.0.1", port, tls: false, connectTimeoutMs: 1000 });
      const g = await c.next(2000);
      await c.close();
      if (typeof g !== "string") return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("dovecot did not start listening");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts Dovecot in the foreground as a child process; `stop()` ends it and removes its directory. */
export async function startDovecot(): Promise<DovecotServer> {
  const bin = dovecotBinary();
  if (bin === null) throw new Error("dovecot is not installed (apt-get install dovecot-imapd)");
  const dir = mkdtempSync(join(tmpdir(), "imaptest-dovecot-"));
  chmodSync(dir, 0o755);
  const mail = uidOf("mail");
  mkdirSync(join(dir, "home"));
  chownSync(join(dir, "home"), mail.uid, mail.gid);
  const port = await commonFreePort(["127.0.0.1"]);
  const password = "imaptest-pass";
  const confPath = join(dir, "dovecot.conf");
  writeFileSync(confPath, config(dir, port, password, mail));
  const child = spawn(bin, ["-F", "-c", confPath], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForGreeting(port, child, join(dir, "dovecot.log"));
    const caps = await serverCapabilities({
      host: "127.0.0.1",
      port,
      tls: false,
      user: "capcheck",
      password,
    });
    return { host: "127.0.0.1", port, password, capabilities: caps.postLogin, stop };
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${stderr}`);
  }
}
