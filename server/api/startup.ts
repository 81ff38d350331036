// What the web app does once when its server starts (instrumentation.ts): open the database (migrations),
// start this process's run worker (runs left `running` by a crash become `interrupted`; queued runs run), start
// the background int8 work the models still want (models/int8-background.ts), and print the browser sign-in
// link. With TUDSR_REDIS_URL the runs execute on `tudsr worker` processes instead: the app connects its event
// bridge (their events reach its streams) and reconciles rows and jobs.
import { getDb } from "../db/client";
import { startInt8Background } from "../models/int8-background";
import { ensureRunWorker } from "../runs/app-worker";
import { distributedQueueEnabled } from "../runs/queue";
import { signInLink } from "./auth";

export async function startStudioServer(): Promise<void> {
  await getDb();
  if (distributedQueueEnabled()) {
    const { redisBridge } = await import("../runs/bullmq/bridge");
    const { reconcileRuns } = await import("../runs/bullmq/queue");
    await redisBridge("app").whenReady();
    const { enqueued, interrupted } = await reconcileRuns();
    console.log(`TUDSR Studio: runs execute on tudsr worker processes (TUDSR_REDIS_URL); ${enqueued} queued, ${interrupted.length} lost runs interrupted`);
  } else {
    await ensureRunWorker();
  }
  // Minutes of quantizing and measuring, after the studio is up and never in a run's way.
  await startInt8Background().catch((error: Error) => console.error(`TUDSR Studio: int8 background work not started: ${error.message}`));
  // Set by `next start` / `next dev` once it listens (the address it prints); the fallback is its default.
  const origin = process.env.__NEXT_PRIVATE_ORIGIN || `http://127.0.0.1:${process.env.PORT || 3000}`;
  console.log(`TUDSR Studio: sign in to the browser UI with ${await signInLink(origin)}`);
  console.log("  (the same link: `npx tudsr ui-link`; scripts use API keys: `npx tudsr keys create <name>`)");
}
