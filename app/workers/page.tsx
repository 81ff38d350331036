import { WorkersPage } from "./workers-page";

export const metadata = { title: "Workers · TUDSR Studio" };

export default function Page() {
  return <WorkersPage />;
}
