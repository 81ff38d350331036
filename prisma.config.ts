// Prisma CLI settings (generate, migrate deploy/status/diff). Prisma 6.19's driver-adapter mode: the
// CLI drives its WebAssembly schema engine through our adapter, so nothing is downloaded (prisma/README.md).
// The database and the provider's schema folder follow DATABASE_URL / TUDSR_DATA_DIR like the app does.
import { defineConfig } from "prisma/config";
import { adapterFor } from "./server/db/adapters";
import { databaseUrl, providerOf } from "./server/db/location";

const url = databaseUrl();
const provider = providerOf(url);

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: `prisma/${provider}/schema.prisma`,
  migrations: { path: `prisma/${provider}/migrations` },
  adapter: async () => adapterFor(url),
});
