/**
 * A private Postfix instance (and an opendkim milter) for interop tests: its own
 * config directory, queue and data directories under a temp folder, one smtpd on
 * a loopback address, a log file instead of syslog. Nothing of the system's
 * Postfix (/etc/postfix, /var/spool/postfix) is used or changed.
 *
 * Needs root (Postfix's master runs as root and drops to the `postfix` user) and
 * the Debian packages postfix, opendkim, opendkim-tools and openssl.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const APT_PACKAGES = "postfix opendkim opendkim-tools openssl";
const TOOLS = ["/usr/sbin/postfix", "/usr/sbin/opendkim", "/usr/sbin/opendkim-genkey", "/usr/bin/openssl"];

/** Throws (so the test fails, never skips) when a tool is missing. */
export function requireTools(): void {
  const missing = TOOLS.filter((t) => !existsSync(t));
  if (missing.length)
    throw new Error(`missing ${missing.join(", ")}: apt-get install --no-install-recommends ${APT_PACKAGES}`);
}

async function exec(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 30_000 });
    return stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

function userIds(name: string): { uid: number; gid: number } {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error(`no user ${name} (is postfix installed?)`);
}

/** Waits until something accepts TCP connections on host:port. */
export async function waitForPort(host: string, port: number, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TestPki {
  caPem: string;
  certFile: string;
  keyFile: string;
}

/** A throw-away CA and a server certificate for `hostname` signed by it (openssl CLI). */
export async function makePki(dir: string, hostname: string): Promise<TestPki> {
  mkdirSync(dir, { recursive: true });
  const p = (n: string) => join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await exec("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=chatrelay interop test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await exec("openssl", [
    "req",
    ...ec,
    "-keyout",
    p("server.key"),
    "-out",
    p("server.csr"),
    "-subj",
    `/CN=${hostname}`,
  ]);
  writeFileSync(
    p("server.ext"),
    `subjectAltName=DNS:${hostname}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  await exec("openssl", [
    "x509",
    "-req",
    "-in",
    p("server.csr"),
    "-CA",
    p("ca.pem"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    p("server.ext"),
    "-out",
    p("server.pem"),
  ]);
  return { caPem: readFileSync(p("ca.pem"), "utf8"), certFile: p("server.pem"), keyFile: p("server.key") };
}

export interface Opendkim {
  /** The TXT record value opendkim-genkey wrote for `<selector>._domainkey.<domain>`. */
  txt: string;
  /** The milter address in Postfix's syntax ("inet:host:port"). */
  milter: string;
  stop(): Promise<void>;
}

/** opendkim-genkey's zone line `sel._domainkey IN TXT ( "v=DKIM1; ..." "p=..." )` → the joined value. */
export function genkeyTxtValue(zoneLine: string): string {
  return [...zoneLine.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join("");
}

/** A signing opendkim on inet:`port`@`host` for `domain`, key from opendkim-genkey. */
export async function startOpendkim(
  dir: string,
  o: { domain: string; selector: string; host: string; port: number },
): Promise<Opendkim> {
  mkdirSync(dir, { recursive: true });
  await exec("opendkim-genkey", ["-D", dir, "-d", o.domain, "-s", o.selector, "-b", "2048"]);
  const txt = genkeyTxtValue(readFileSync(join(dir, `${o.selector}.txt`), "utf8"));
  const conf = join(dir, "opendkim.conf");
  const socket = `inet:${o.port}@${o.host}`;
  writeFileSync(
    conf,
    [
      "Syslog no",
      "Mode s",
      `Domain ${o.domain}`,
      `Selector ${o.selector}`,
      `KeyFile ${join(dir, `${o.selector}.private`)}`,
      `Socket ${socket}`,
      // Postfix hands over the SMTP client's address; our injections come from 127/8
      "InternalHosts 127.0.0.0/8",
      "Canonicalization relaxed/simple",
      // the key lives under the system temp folder, which is world-writable (sticky):
      // opendkim's default path check refuses that
      "RequireSafeKeys no",
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn("opendkim", ["-f", "-x", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await Promise.race([
      waitForPort(o.host, o.port),
      exited.then(() => {
        throw new Error(`opendkim exited: ${stderr}`);
      }),
    ]);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return {
    txt,
    milter: `inet:${o.host}:${o.port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
    },
  };
}

export interface PostfixOptions {
  /** Empty folder for config, queue, data, mailboxes and log. */
  dir: string;
  host: string;
  port: number;
  hostname: string;
  /** Domain delivered to virtual mailboxes (one file per local part). */
  domain: string;
  mailboxes: string[];
  tls: { certFile: string; keyFile: string };
  /** "[ip]:port": every other domain is relayed there, with mandatory TLS. */
  relayhost: string;
  /** "inet:host:port" of a signing milter. */
  milter?: string;
}

export interface Postfix {
  /** Content of a virtual mailbox file ("" while absent). */
  mailbox(localPart: string): string;
  /** The Postfix log (maillog_file). */
  log(): string;
  stop(): Promise<void>;
}

const MASTER_CF = `# service type private unpriv chroot wakeup maxproc command
{{SMTPD}} inet n - n - - smtpd
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -    - proxymap
smtp      unix  - - n -    - smtp
relay     unix  - - n -    - smtp
showq     unix  n - n -    - showq
error     unix  - - n -    - error
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
virtual   unix  - n n -    - virtual
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
`;

/** Writes main.cf/master.cf and runs `postfix -c <dir>/conf start`. */
export async function startPostfix(o: PostfixOptions): Promise<Postfix> {
  const conf = join(o.dir, "conf");
  const queue = join(o.dir, "queue");
  const data = join(o.dir, "data");
  const mail = join(o.dir, "mail");
  const logFile = join(o.dir, "maillog");
  for (const d of [conf, queue, data, mail]) mkdirSync(d, { recursive: true });
  // Postfix processes run as the postfix user and must reach the queue
  chmodSync(o.dir, 0o755);
  const pf = userIds("postfix");
  for (const d of [data, mail]) chownSync(d, pf.uid, pf.gid);
  const boxes = o.mailboxes.map((l) => `${l}@${o.domain}=${l}`).join(", ");
  const main = {
    compatibility_level: "3.6",
    queue_directory: queue,
    data_directory: data,
    myhostname: o.hostname,
    mydomain: o.domain,
    myorigin: o.domain,
    mydestination: "",
    // Postfix insists that inet_interfaces are configured on an interface (only
    // 127.0.0.1 is); the smtpd itself binds o.host in master.cf
    inet_interfaces: "loopback-only",
    proxy_interfaces: o.host,
    inet_protocols: "ipv4",
    mynetworks: "127.0.0.0/8",
    alias_maps: "",
    alias_database: "",
    smtpd_peername_lookup: "no",
    maillog_file: logFile,
    maillog_file_prefixes: o.dir,
    virtual_mailbox_domains: o.domain,
    virtual_mailbox_base: mail,
    virtual_mailbox_maps: `inline:{ ${boxes} }`,
    virtual_uid_maps: `static:${pf.uid}`,
    virtual_gid_maps: `static:${pf.gid}`,
    // incoming: STARTTLS offered with the test CA's certificate
    smtpd_tls_cert_file: o.tls.certFile,
    smtpd_tls_key_file: o.tls.keyFile,
    smtpd_tls_security_level: "may",
    smtpd_tls_received_header: "yes",
    smtpd_tls_loglevel: "1",
    // outgoing: everything else to the relay, encrypted (not verified: self-signed)
    relayhost: o.relayhost,
    smtp_tls_security_level: "encrypt",
    smtp_tls_loglevel: "1",
    smtpd_milters: o.milter ?? "",
    non_smtpd_milters: o.milter ?? "",
    milter_default_action: "tempfail",
    // a transient answer is retried soon; the tests do not wait for it
    queue_run_delay: "5s",
    minimal_backoff_time: "5s",
  };
  writeFileSync(
    join(conf, "main.cf"),
    `${Object.entries(main)
      .map(([k, v]) => `${k} = ${v}`)
      .join("\n")}\n`,
  );
  writeFileSync(join(conf, "master.cf"), MASTER_CF.replace("{{SMTPD}}", `${o.host}:${o.port}`));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  try {
    await exec("postfix", ["-c", conf, "start"]);
    await waitForPort(o.host, o.port);
  } catch (e) {
    await exec("postfix", ["-c", conf, "abort"]).catch(() => "");
    throw new Error(`${(e as Error).message}\n--- postfix log ---\n${log()}`);
  }
  const pidFile = join(queue, "pid", "master.pid");
  return {
    mailbox: (l) => (existsSync(join(mail, l)) ? readFileSync(join(mail, l), "utf8") : ""),
    log,
    async stop() {
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : 0;
      await exec("postfix", ["-c", conf, "stop"]).catch(() => "");
      // `postfix stop` only signals the master; wait for it to be gone
      const end = Date.now() + 5000;
      while (pid > 0 && Date.now() < end) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      if (pid > 0) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    },
  };
}
