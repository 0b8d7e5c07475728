/**
 * `chatrelay queue [list|retry [ID]|delete ID]`: the outbound queue for
 * operators. Works beside a running relay (SQLite WAL); the relay notices
 * rescheduled jobs within seconds.
 */
import { loadConfig } from "../config/load.ts";
import { OUTBOUND_QUEUE, type OutboundPayload } from "../delivery/outbound/queue.ts";
import { openStore } from "../store/open.ts";

export async function runQueue(configPath: string, args: string[]): Promise<number> {
  const { config } = loadConfig(configPath);
  const store = await openStore(config.data_dir);
  try {
    const [action = "list", id] = args;
    const jobs = await store.listJobs(OUTBOUND_QUEUE);
    const pick = id === undefined ? jobs : jobs.filter((j) => String(j.id) === id);
    if (id !== undefined && pick.length === 0) {
      process.stderr.write(`chatrelay queue: no queued message with id ${id}\n`);
      return 1;
    }
    switch (action) {
      case "list": {
        if (jobs.length === 0) process.stdout.write("the outbound queue is empty\n");
        for (const j of jobs) {
          const p = j.payload as OutboundPayload;
          const due = new Date(j.dueAt).toISOString();
          const queued = new Date(j.createdAt).toISOString();
          process.stdout.write(
            `${j.id}\t${p.domain}\t${p.recipients.length} recipient(s)\tqueued ${queued}\tnext try ${due}\tattempts ${p.attempts}\t${j.lastError ?? ""}\n`,
          );
        }
        return 0;
      }
      case "retry":
        for (const j of pick) await store.rescheduleJob(j.id, Date.now(), j.lastError, j.payload);
        process.stdout.write(`${pick.length} message(s) due now\n`);
        return 0;
      case "delete":
        if (id === undefined) {
          process.stderr.write("chatrelay queue delete: give the id (see chatrelay queue list)\n");
          return 2;
        }
        for (const j of pick) await store.deleteJob(j.id);
        process.stdout.write(`deleted ${pick.length} message(s)\n`);
        return 0;
      default:
        process.stderr.write(`chatrelay queue: unknown action "${action}" (list, retry, delete)\n`);
        return 2;
    }
  } finally {
    await store.close();
  }
}
