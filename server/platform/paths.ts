import path from "node:path";
import { fileURLToPath } from "node:url";

// Not `new URL("../", import.meta.url)`: Next's bundler takes that for an asset import and fails.
/** The repository root: models/, data/ and prisma/ are found from here. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The runtime data folder (database, uploads, outputs): $TUDSR_DATA_DIR, else `data/` at the repository root. */
export function dataDir(): string {
  // turbopackIgnore: a folder chosen at run time, not files for Next to trace into the build.
  return path.resolve(/*turbopackIgnore: true*/ process.env.TUDSR_DATA_DIR || path.join(REPO_ROOT, "data"));
}
