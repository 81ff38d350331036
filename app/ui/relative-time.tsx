"use client";
// "3 minutes ago", kept current. Rendered only in the browser: the server's clock and the moment of hydration
// differ, so server markup with a relative time would not match the client's.
import { useSyncExternalStore } from "react";
import { formatWhen } from "./format";

const TICK_MS = 30_000;
let tick = 0;
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | undefined;

// One shared clock for every relative time on the page.
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  timer ??= setInterval(() => {
    tick++;
    for (const notify of listeners) notify();
  }, TICK_MS);
  return () => {
    listeners.delete(listener);
    if (!listeners.size && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

export function RelativeTime({ date, never = "–" }: { date: Date | null | undefined; never?: string }) {
  const inBrowser = useSyncExternalStore(subscribe, () => tick, () => null) !== null;
  if (!inBrowser) return null;
  if (!date) return <>{never}</>;
  return (
    <time dateTime={date.toISOString()} title={date.toLocaleString()}>
      {formatWhen(date)}
    </time>
  );
}
