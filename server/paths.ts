import path from "node:path";
import { fileURLToPath } from "node:url";

// Not `new URL("../", import.meta.url)`: Next's bundler takes that for an asset import and fails.
/** The repository root: models/, data/ and prisma/ are found from here. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
