// `tudsr keys create|list|revoke` and `tudsr ui-link`: in-process calls of the same procedures the studio
// uses (the CLI holds the data folder, so it needs no key).
import { parseArgs } from "node:util";
import { signInLink } from "../api/auth";
import { createCaller } from "../api/root";
import { localContext } from "../api/trpc";
import { closeDb } from "../db/client";
import { CliUsageError } from "./usage-error";

const KEYS_USAGE = `  tudsr keys create <name>           a new API key for scripts: printed once, on stdout
  tudsr keys list                    keys with their prefix, last use and revocation
  tudsr keys revoke <id | prefix>    the key stops working at once
  tudsr ui-link [--origin <url>]     the browser sign-in link (default origin http://127.0.0.1:3000)`;


function when(date: Date | null): string {
  return date ? date.toISOString().replace("T", " ").slice(0, 19) : "-";
}

export async function keysCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const api = createCaller(localContext());
  try {
    switch (action) {
      case "create": {
        const name = rest.join(" ").trim();
        if (!name) throw new CliUsageError(`keys create needs a name, e.g. \`tudsr keys create nightly-batch\`\n${KEYS_USAGE}`);
        const key = await api.keys.create({ name });
        // The key alone on stdout, so `KEY=$(npx tudsr keys create x)` works; the advice goes to stderr.
        console.error(`API key "${key.name}" (${key.prefix}) created. Copy it now: it is not stored and is not shown again.`);
        console.log(key.secret);
        return 0;
      }
      case "list": {
        const keys = await api.keys.list();
        if (keys.length === 0) {
          console.log("no API keys (create one with `tudsr keys create <name>`)");
          return 0;
        }
        console.log(`${"prefix".padEnd(16)} ${"name".padEnd(24)} ${"created".padEnd(19)}  ${"last used".padEnd(19)}  ${"revoked".padEnd(19)}  id`);
        for (const key of keys) {
          console.log(
            `${key.prefix.padEnd(16)} ${key.name.slice(0, 24).padEnd(24)} ${when(key.createdAt)}  ${when(key.lastUsedAt).padEnd(19)}  ${when(key.revokedAt).padEnd(19)}  ${key.id}`,
          );
        }
        return 0;
      }
      case "revoke": {
        if (rest.length !== 1) throw new CliUsageError(`keys revoke takes one key id or prefix\n${KEYS_USAGE}`);
        const key = await api.keys.revoke({ id: rest[0] });
        console.log(`revoked ${key.prefix} (${key.name}) at ${when(key.revokedAt)}`);
        return 0;
      }
      default:
        throw new CliUsageError(`keys: unknown action ${action === undefined ? "(none)" : `"${action}"`}\n${KEYS_USAGE}`);
    }
  } finally {
    await closeDb();
  }
}

export async function uiLinkCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { origin: { type: "string", default: "http://127.0.0.1:3000" } } });
  console.log(await signInLink(values.origin));
  return 0;
}
