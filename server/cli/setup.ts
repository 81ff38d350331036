// `npm run setup`: converts the built-in models (server/models/setup.ts) and measures ONNX Runtime's threading on
// this machine once: seconds, so the studio is up soon after. Their int8 variants are made in the background once
// the studio runs; `npm run setup -- --int8` makes them here instead (the tests want them decided first).
import { parseArgs } from "node:util";
import { chooseSessionSettings } from "../inference/session-settings";
import { modelsDir } from "../models/manifest";
import { setupModels } from "../models/setup";

async function main(): Promise<void> {
  const dir = modelsDir();
  try {
    const { values } = parseArgs({ options: { int8: { type: "boolean", default: false } } });
    const manifest = await setupModels({ dir, int8: values.int8, log: (line) => console.log(line) });
    await chooseSessionSettings(manifest.models.filter((entry) => entry.builtIn), dir, (line) => console.log(line));
    console.log(`${manifest.models.length} models ready in ${dir}`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`npm run setup failed: ${message.replace(/\s*\n\s*/g, " ")}`);
    process.exitCode = 1;
  }
}

await main();
