// What the web app sees of the server (besides the tRPC client of app/ui/trpc.tsx and the route handlers): the
// router's input and output types, the shapes of a run's live events, and the plain constants and functions its
// pages share with the server (run statuses, the model filter). Types and pure modules only: client components
// import it. app/ imports the server only through server/api/ (checked by server/import-graph.test.ts).
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "./root";

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export type RunDetail = RouterOutputs["runs"]["get"];
export type RunListItem = RouterOutputs["runs"]["list"]["runs"][number];
export type RunStatus = RunDetail["status"];
export type RunTrigger = RunDetail["trigger"];
export type RunStamp = NonNullable<RunDetail["stamp"]>;

export { RUN_STATUSES } from "../db/run-statuses";
export type { RunEvent, RunSnapshotEvent, TileMapEvent, TilePreview } from "../runs/events";
export {
  COPYLEFT_NOTE,
  describeDegradation,
  describePadding,
  filterModels,
  MODEL_CONTENTS,
  MODEL_DEGRADATIONS,
  type ModelFilter,
  modelFilterSchema,
  shortLicense,
} from "../models/filter";
