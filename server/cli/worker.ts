// `tudsr worker [--concurrency N]`: a worker of the distributed run queue (see server/runs/bullmq/worker.ts).
import { parseArgs } from "node:util";
import { CliUsageError } from "./usage-error";

export async function workerCommand(argv: string[]): Promise<number> {
  let values: { concurrency?: string };
  try {
    ({ values } = parseArgs({ args: argv, options: { concurrency: { type: "string", short: "c" } }, allowPositionals: false }));
  } catch (error) {
    throw new CliUsageError(`worker: ${(error as Error).message} (usage: tudsr worker [--concurrency N])`);
  }
  const text = values.concurrency ?? process.env.TUDSR_RUN_CONCURRENCY ?? "1";
  const concurrency = Number(text);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new CliUsageError(`worker: --concurrency (or TUDSR_RUN_CONCURRENCY) must be a whole number >= 1, got "${text}"`);
  }
  if (!process.env.TUDSR_REDIS_URL) {
    throw new CliUsageError("worker: set TUDSR_REDIS_URL (e.g. redis://10.0.0.5:6379), the Redis the studio queues runs on");
  }
  if (!process.env.DATABASE_URL?.startsWith("postgres")) {
    console.error("tudsr worker: note: DATABASE_URL is not Postgres; workers on other machines cannot share this SQLite database");
  }
  const { workerCommand: run } = await import("../runs/bullmq/worker");
  return run({ concurrency });
}
