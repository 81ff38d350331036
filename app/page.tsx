import { PipelinesSection } from "./home/pipelines-section";
import { TemplatesSection } from "./home/templates-section";

export default function Home() {
  return (
    <main className="page">
      <PipelinesSection />
      <TemplatesSection />
    </main>
  );
}
