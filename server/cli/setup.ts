// `npm run setup`: converts the built-in models (server/models/setup.ts), makes their int8 variants, and measures
// ONNX Runtime's threading on this machine once.
import { chooseSessionSettings } from "../inference/session-settings";
import { modelsDir } from "../models/manifest";
import { setupModels } from "../models/setup";

async function main(): Promise<void> {
  const dir = modelsDir();
  try {
    const manifest = await setupModels({ dir, log: (line) => console.log(line) });
    await chooseSessionSettings(manifest.models.filter((entry) => entry.builtIn), dir, (line) => console.log(line));
    console.log(`${manifest.models.length} models ready in ${dir}`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`npm run setup failed: ${message.replace(/\s*\n\s*/g, " ")}`);
    process.exitCode = 1;
  }
}

await main();
