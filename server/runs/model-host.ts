// The models of this machine as every host of a run sees them (preparing, planning, running): described from
// the manifest, costs measured here, and the one decision of where a provider runs (inference/providers.ts).
import type { ModelHost } from "../../nodes/graph/host";
import type { ExecutionProvider, Precision } from "../../nodes/graph/models";
import { type InferenceService, memoryBudgetBytes } from "../inference/inference-service";
import { chooseProvider } from "../inference/providers";

export class MachineModelHost implements ModelHost {
  constructor(protected readonly inference: InferenceService) {}

  describeModel(id: string) {
    return this.inference.describeModel(id);
  }

  chooseProvider(provider: ExecutionProvider, onMissing: "fallback-cpu" | "error") {
    return chooseProvider(provider, onMissing);
  }

  modelCost(modelId: string, precision: Precision, provider: ExecutionProvider) {
    return this.inference.cost(modelId, precision, provider);
  }

  memoryBudgetBytes(): number {
    return memoryBudgetBytes();
  }
}
