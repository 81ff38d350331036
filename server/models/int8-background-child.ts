// The background int8 work's process (int8-background.ts starts it): makes each named model's variant in turn
// and reports to its parent, which records the results. Arguments: the models folder, then the model ids.
import type { Int8WorkMessage } from "./int8-background";
import { makeInt8Status } from "./int8-work";
import { readModelManifest } from "./manifest";

const [dir, ...ids] = process.argv.slice(2);
// The studio went (killed, or stopped): what is unfinished is redone when it next starts.
process.on("disconnect", () => process.exit(0));
const send = (message: Int8WorkMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

for (const id of ids) {
  const manifest = await readModelManifest(dir);
  const entry = manifest.models.find((model) => model.id === id);
  if (!entry) continue;
  await send({ type: "started", id });
  const status = await makeInt8Status(entry, manifest, dir, (line) => console.log(line));
  await send({ type: "finished", id, status });
}
process.disconnect();
