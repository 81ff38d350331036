import { KeysPage } from "./keys-page";

export const metadata = { title: "API keys · TUDSR Studio" };

export default function Page() {
  return <KeysPage />;
}
