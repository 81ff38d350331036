// Next.js calls register() once when the server starts (next start / next dev).
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const { startStudioServer } = await import("./server/api/startup");
  await startStudioServer();
}
