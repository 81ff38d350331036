import { RunView } from "./run-view";

export const metadata = { title: "Run · TUDSR Studio" };

export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <RunView id={id} />;
}
