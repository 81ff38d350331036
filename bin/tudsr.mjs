#!/usr/bin/env node
// The `tudsr` command: loads the TypeScript CLI through tsx, so there is no separate build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../server/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
