import { type ModelFilter, modelFilterSchema } from "../../server/api/contract";
import { ModelsPage } from "./models-page";

export const metadata = { title: "Models · TUDSR Studio" };

/** /models?content=photo&degradation=real-world&scale=4&kind=built-in&q=esrgan: each filter that parses is kept. */
export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const filter: ModelFilter = {};
  for (const key of Object.keys(modelFilterSchema.shape) as (keyof ModelFilter)[]) {
    const value = params[key];
    const parsed = modelFilterSchema.shape[key].safeParse(typeof value === "string" && value !== "" ? value : undefined);
    if (parsed.success && parsed.data !== undefined) Object.assign(filter, { [key]: parsed.data });
  }
  return <ModelsPage initialFilter={filter} />;
}
