import { RUN_STATUSES, type RunStatus } from "../../server/api/contract";
import { RunsList } from "./runs-list";

export const metadata = { title: "Runs · TUDSR Studio" };

export default async function RunsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { status } = await searchParams;
  const initial = RUN_STATUSES.find((candidate) => candidate === status) as RunStatus | undefined;
  return <RunsList initialStatus={initial ?? null} />;
}
