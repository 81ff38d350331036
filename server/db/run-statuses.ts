// The states and triggers a run row holds (plain constants: the browser reads them too, through server/api/contract.ts).
export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "canceled", "interrupted"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const RUN_TRIGGERS = ["ui", "api", "cli"] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];
/** Statuses a run never leaves. */
export const FINAL_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "canceled", "interrupted"];
