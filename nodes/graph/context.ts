// What a node is given when it runs or is planned: its host, its place in the graph, and its readers.
import type { ModelCost } from "../image/tile-plan";
import type { RgbImage } from "../image/types";
import type { TileReport } from "./events";
import type { PlanHost, RunHost } from "./host";
import type { PlanValue } from "./plan";
import type { PortValue } from "./values";

/** A node reading this node's outputs, with its resolved params. */
export interface NodeReader {
  id: string;
  type: string;
  params: Record<string, unknown>;
  /** For a node that runs a model on the tiles it reads: what one tile costs here (chunk's `auto` tiles ask). */
  tileCost?: () => Promise<ModelCost>;
}

/** Runs a container's body once: the value given to its body-in handle in, what reaches body-out back. */
export type BodyRunner = (input: PortValue, iteration: number, signal: AbortSignal) => Promise<PortValue>;

export interface RunContext {
  nodeId: string;
  /** The pass of the loop whose body this node runs in (absent at the top level). */
  iteration?: number;
  host: RunHost;
  signal: AbortSignal;
  progress(done: number, total: number): void;
  /** A tile this node starts computing, and the same tile finished with its pixels (the live tile map). */
  tileStarted(report: TileReport): void;
  tileDone(report: TileReport, image: RgbImage): void;
  log(message: string): void;
  /** The nodes reading this node's outputs (e.g. chunk sizing tiles for the model that reads them). */
  readers: NodeReader[];
  /** Present for container nodes only. */
  body?: BodyRunner;
}

/** Plans a container's body once: the value given to body-in in, what reaches body-out back. */
export type BodyPlanner = (input: PlanValue, iteration: number) => Promise<PlanValue>;

export interface PlanContext {
  nodeId: string;
  host: PlanHost;
  readers: NodeReader[];
  body?: BodyPlanner;
}
