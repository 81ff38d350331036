import { nodeDefinitions } from "../nodes/index";
import { builtInTemplates } from "../nodes/templates/index";

// The editor arrives with its own issue; until then the home page shows what the engine offers.
export default function Home() {
  return (
    <main style={{ maxWidth: 960, margin: "0 auto", padding: "32px 24px" }}>
      <h1 style={{ marginTop: 0 }}>TUDSR Studio</h1>
      <p>Pipelines run from the command line today: <code>npx tudsr run x4-chunked --input photo.png --output out.png</code></p>
      <h2>Templates</h2>
      <ul>
        {builtInTemplates.map(({ id, graph }) => (
          <li key={id}>
            <strong>{id}</strong>: {graph.description}
          </li>
        ))}
      </ul>
      <h2>Nodes</h2>
      <ul>
        {nodeDefinitions.map((node) => (
          <li key={node.type}>
            <strong>{node.title}</strong> <small>({node.category})</small>: {node.description}
          </li>
        ))}
      </ul>
    </main>
  );
}
