// Plans a graph without running it: walks it in the order the engine runs it (one node at a time, containers
// planning their body per pass), asking each node's own `plan` for its output sizes and costs, and adds up the
// predicted time and the memory held at once (values alive until their last reader ran, as the engine frees
// them, plus the model sessions and ONNX Runtime itself, which stay in the process once made).
import { compileGraph, readersOf } from "./compiled-graph";
import { NodeRunError } from "./engine";
import type { ChunkPlan, GeneratePlan, ImageShape, PlanHost, PlanValue } from "./plan";
import { planValueBytes } from "./plan";
import type { GraphNode } from "./schema";
import { checkGraph, type NodeRegistry } from "./validate";

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

/** The plan of a graph (validated first; a problem throws GraphValidationError, a node's failure NodeRunError). */
export async function planGraph(input: unknown, registry: NodeRegistry, host: PlanHost): Promise<RunPlan> {
  const graph = checkGraph(input, registry);
  const compiled = compileGraph(graph, registry);
  const reports: NodePlanReport[] = [];
  const inputs: Record<string, ImageShape> = {};
  const held = new Map<string, number>();
  const heldBytes = () => [...held.values()].reduce((sum, bytes) => sum + bytes, 0);
  let liveBytes = 0;
  let peak = { bytes: 0, nodeId: "" };
  // The host as the nodes see it, noting each input's size for the plan.
  const planHost: PlanHost = {
    inputSize: async (name) => (inputs[name] = await host.inputSize(name)),
    describeModel: (id) => host.describeModel(id),
    modelCost: host.modelCost && ((...args) => host.modelCost!(...args)),
    memoryBudgetBytes: host.memoryBudgetBytes && (() => host.memoryBudgetBytes!()),
    providerUsed: (...args) => host.providerUsed(...args),
    predictTile: (...args) => host.predictTile(...args),
    predictNodeMs: (...args) => host.predictNodeMs(...args),
  };

  async function planScope(scope: string, seed: PlanValue | undefined, iteration: number | undefined): Promise<Map<string, Record<string, PlanValue>>> {
    const members = compiled.scopes.get(scope) ?? [];
    const memberIds = new Set(members.map((node) => node.id));
    const outputs = new Map<string, Record<string, PlanValue>>();
    const upstream = new Map(
      members.map((node) => [node.id, new Set([...compiled.sources.get(node.id)!.values()].map((s) => s.node).filter((id) => memberIds.has(id)))]),
    );
    const waitingOn = new Map(members.map((node) => [node.id, upstream.get(node.id)!.size]));
    const consumers = new Map<string, string[]>();
    for (const [nodeId, from] of upstream) for (const source of from) consumers.set(source, [...(consumers.get(source) ?? []), nodeId]);
    const unreadBy = new Map(members.map((node) => [node.id, consumers.get(node.id)?.length ?? 0]));
    const keep = scope ? compiled.bodyResult.get(scope)?.node : undefined;
    const bytesOf = (values: Record<string, PlanValue>) => Object.values(values).reduce((sum, value) => sum + planValueBytes(value), 0);
    const drop = (nodeId: string) => {
      liveBytes -= bytesOf(outputs.get(nodeId)!);
      outputs.delete(nodeId);
    };

    const ready = members.filter((node) => waitingOn.get(node.id) === 0);
    while (ready.length) {
      const node = ready.shift()!;
      const definition = compiled.definitions.get(node.id)!;
      const nodeInputs: Partial<Record<string, PlanValue>> = {};
      for (const [port, source] of compiled.sources.get(node.id)!) nodeInputs[port] = source.node === scope ? seed : outputs.get(source.node)![source.handle];
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
        planned = await definition.plan({ inputs: nodeInputs, params: compiled.params.get(node.id)!, ctx: { nodeId: node.id, host: planHost, readers: readersOf(compiled, node.id), body } });
      } catch (error) {
        throw failed(node, error);
      }
      for (const { key, bytes } of planned.held ?? []) held.set(key, Math.max(held.get(key) ?? 0, bytes));
      const atOnce = liveBytes + bytesOf(planned.outputs) + (planned.workBytes ?? 0) + heldBytes();
      if (atOnce > peak.bytes) peak = { bytes: atOnce, nodeId: node.id };
      const ms = planned.ms ?? (planned.workMegapixels === undefined ? 0 : await host.predictNodeMs(node.type, planned.workMegapixels));
      reports.push({ nodeId: node.id, type: node.type, iteration, outputs: planned.outputs, ms, workMegapixels: planned.ms === undefined ? planned.workMegapixels : undefined, detail: planned.detail });
      outputs.set(node.id, planned.outputs);
      liveBytes += bytesOf(planned.outputs);
      for (const source of upstream.get(node.id)!) {
        const left = unreadBy.get(source)! - 1;
        unreadBy.set(source, left);
        if (left === 0 && source !== keep) drop(source);
      }
      if (unreadBy.get(node.id) === 0 && node.id !== keep) drop(node.id);
      for (const consumer of consumers.get(node.id) ?? []) {
        const left = waitingOn.get(consumer)! - 1;
        waitingOn.set(consumer, left);
        if (left === 0) ready.push(compiled.nodes.get(consumer)!);
      }
    }
    return outputs;
  }

  const top = await planScope("", undefined, undefined);
  for (const values of top.values()) liveBytes -= Object.values(values).reduce((sum, value) => sum + planValueBytes(value), 0);
  return { inputs, nodes: reports, totalMs: reports.reduce((sum, report) => sum + report.ms, 0), peakBytes: peak.bytes, peakNodeId: peak.nodeId };
}
