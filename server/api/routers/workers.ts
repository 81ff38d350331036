import { listWorkers } from "../../runs/workers";
import { apiProcedure, createTRPCRouter } from "../trpc";

export const workersRouter = createTRPCRouter({
  /** The processes executing runs (host, pid, concurrency, what each runs now, last heartbeat) and the queue's depth. */
  list: apiProcedure.query(() => listWorkers()),
});
