import { ModelsPage } from "./models-page";

export const metadata = { title: "Models · TUDSR Studio" };

export default function Page() {
  return <ModelsPage />;
}
