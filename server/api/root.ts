// The whole API: the browser UI (tRPC at /api/trpc), scripts (/api/v1, same procedures) and in-process
// callers (createCaller) all go through this router.
import { artifactsRouter } from "./routers/artifacts";
import { keysRouter } from "./routers/keys";
import { modelsRouter } from "./routers/models";
import { pipelinesRouter } from "./routers/pipelines";
import { runsRouter } from "./routers/runs";
import { sessionRouter } from "./routers/session";
import { templatesRouter } from "./routers/templates";
import { workersRouter } from "./routers/workers";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  pipelines: pipelinesRouter,
  templates: templatesRouter,
  runs: runsRouter,
  models: modelsRouter,
  artifacts: artifactsRouter,
  keys: keysRouter,
  session: sessionRouter,
  workers: workersRouter,
});

export type AppRouter = typeof appRouter;

/** `createCaller(context)`: call procedures in-process (tests, CLI, the /api/v1 handlers). */
export const createCaller = createCallerFactory(appRouter);
