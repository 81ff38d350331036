// Plans a graph without running it: walks it in the order the engine runs it (one node at a time, containers
// planning their body per pass), asking each node's own `plan` for its output sizes and costs, and adds up the
// predicted time and the memory held at once (values alive until their last reader ran, as the engine frees
// them, plus the model sessions and ONNX Runtime itself, which stay in the process once made).
import { NodeRunError } from "./engine";
import type { PlanHost } from "./host";
import type { ChunkPlan, GeneratePlan, ImageShape, PlanValue } from "./plan";
import { planValueBytes, planWorkMegapixels } from "./plan";
import { decisionOf, type PreparedGraph, preparedReaders } from "./prepared-graph";
import { walkScope } from "./scheduler";
import type { GraphNode } from "./schema";

export interface NodePlanReport {
  nodeId: string;
  type: string;
  /** The pass of the loop whose body this is (absent at the top level). */
  iteration?: number;
  outputs: Record<string, PlanValue>;
  /** Predicted time of this node (this pass). */
  ms: number;
  /** The work a node without a model does, which its time is predicted (and recorded) per megapixel of. */
  workMegapixels?: number;
  detail?: ChunkPlan | GeneratePlan;
}

export interface RunPlan {
  inputs: Record<string, ImageShape>;
  /** Every node the run executes, in the engine's order; a loop's body nodes once per pass, before the loop. */
  nodes: NodePlanReport[];
  totalMs: number;
  /** Predicted peak memory the run adds to its process: images and tiles alive at once, model sessions and ONNX Runtime. */
  peakBytes: number;
  /** The node running when that peak is reached. */
  peakNodeId: string;
}

function failed(node: GraphNode, error: unknown): NodeRunError {
  return error instanceof NodeRunError ? error : new NodeRunError(node.id, node.type, error instanceof Error ? error.message : String(error));
}

/** The plan of a prepared graph (a node's failure throws NodeRunError). */
export async function planGraph(prepared: PreparedGraph, host: PlanHost): Promise<RunPlan> {
  const { compiled } = prepared;
  const reports: NodePlanReport[] = [];
  const inputs: Record<string, ImageShape> = {};
  const held = new Map<string, number>();
  const heldBytes = () => [...held.values()].reduce((sum, bytes) => sum + bytes, 0);
  const bytesOf = (values: Record<string, PlanValue>) => Object.values(values).reduce((sum, value) => sum + planValueBytes(value), 0);
  let liveBytes = 0;
  let peak = { bytes: 0, nodeId: "" };
  // The host as the nodes see it, noting each input's size for the plan.
  const planHost: PlanHost = {
    inputSize: async (name) => (inputs[name] = await host.inputSize(name)),
    describeModel: (id) => host.describeModel(id),
    chooseProvider: (...args) => host.chooseProvider(...args),
    modelCost: host.modelCost && ((...args) => host.modelCost!(...args)),
    memoryBudgetBytes: host.memoryBudgetBytes && (() => host.memoryBudgetBytes!()),
    predictTile: (...args) => host.predictTile(...args),
    predictNodeMs: (...args) => host.predictNodeMs(...args),
  };

  const planNode = async (node: GraphNode, nodeInputs: Partial<Record<string, PlanValue>>, iteration: number | undefined): Promise<Record<string, PlanValue>> => {
    const definition = compiled.definitions.get(node.id)!;
    if (!definition.plan) throw new NodeRunError(node.id, node.type, "this node type cannot be planned (it has no plan)");
    const body = definition.container
      ? async (value: PlanValue, pass: number) => {
          const result = compiled.bodyResult.get(node.id)!;
          // From the second pass on, the previous pass's result is what the body reads.
          const previous = pass > 0 ? planValueBytes(value) : 0;
          liveBytes += previous;
          const bodyOutputs = await planScope(node.id, value, pass);
          const resultValue = bodyOutputs.get(result.node)![result.handle];
          for (const values of bodyOutputs.values()) liveBytes -= bytesOf(values);
          liveBytes -= previous;
          return resultValue;
        }
      : undefined;
    let planned;
    try {
      const ctx = { nodeId: node.id, host: planHost, readers: preparedReaders(prepared, node.id, planHost), body };
      planned = await definition.plan({ inputs: nodeInputs, params: compiled.params.get(node.id)!, decision: decisionOf(prepared, node.id), ctx });
    } catch (error) {
      throw failed(node, error);
    }
    for (const { key, bytes } of planned.held ?? []) held.set(key, Math.max(held.get(key) ?? 0, bytes));
    const atOnce = liveBytes + bytesOf(planned.outputs) + (planned.workBytes ?? 0) + heldBytes();
    if (atOnce > peak.bytes) peak = { bytes: atOnce, nodeId: node.id };
    const workMegapixels = planned.ms === undefined && !definition.container ? planWorkMegapixels([...Object.values(nodeInputs), ...Object.values(planned.outputs)]) : undefined;
    const ms = planned.ms ?? (workMegapixels === undefined ? 0 : await host.predictNodeMs(node.type, workMegapixels));
    reports.push({ nodeId: node.id, type: node.type, iteration, outputs: planned.outputs, ms, workMegapixels, detail: planned.detail });
    liveBytes += bytesOf(planned.outputs);
    return planned.outputs;
  };

  const planScope = (scope: string, seed: PlanValue | undefined, iteration: number | undefined) =>
    walkScope<PlanValue>(compiled, scope, seed, {
      visit: (node, nodeInputs) => planNode(node, nodeInputs, iteration),
      release: (_nodeId, values) => (liveBytes -= bytesOf(values)),
    });

  const top = await planScope("", undefined, undefined);
  for (const values of top.values()) liveBytes -= bytesOf(values);
  return { inputs, nodes: reports, totalMs: reports.reduce((sum, report) => sum + report.ms, 0), peakBytes: peak.bytes, peakNodeId: peak.nodeId };
}
