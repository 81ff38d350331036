import { CompareView } from "./compare-view";

export const metadata = { title: "Compare runs · TUDSR Studio" };

export default async function ComparePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { ids } = await searchParams;
  const list = [ids ?? []].flat().flatMap((value) => value.split(","));
  return <CompareView ids={[...new Set(list.map((id) => id.trim()).filter(Boolean))]} />;
}
