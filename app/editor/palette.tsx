"use client";
// Every node type from the registry, by category, with search. Drag one onto the canvas (or into a loop), or
// click it to add it in the middle of the view.
import { useMemo, useState } from "react";
import type { AnyNodeDefinition, NodeCategory } from "../../nodes/graph/define-node";
import { nodeDefinitions } from "../../nodes/index";
import styles from "./editor.module.css";

export const NODE_DRAG_TYPE = "application/x-tudsr-node";

const CATEGORY_ORDER: NodeCategory[] = ["Input/Output", "Degrade", "Transform", "Tiling", "Generate", "Control", "Evaluate"];

export function Palette({ onAdd }: { onAdd: (nodeType: string) => void }) {
  const [query, setQuery] = useState("");
  const groups = useMemo(() => {
    const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const matches = (definition: AnyNodeDefinition) => {
      const text = `${definition.title} ${definition.type} ${definition.category} ${definition.description}`.toLowerCase();
      return words.every((word) => text.includes(word));
    };
    return CATEGORY_ORDER.map((category) => ({
      category,
      definitions: nodeDefinitions.filter((definition) => definition.category === category && matches(definition)),
    })).filter((group) => group.definitions.length > 0);
  }, [query]);

  return (
    <aside className={styles.palette} aria-label="Node palette">
      <input
        type="search"
        placeholder="Search nodes…"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && groups[0]) onAdd(groups[0].definitions[0].type);
        }}
        data-testid="palette-search"
        aria-label="Search nodes"
      />
      <div className={styles.paletteList}>
        {groups.length === 0 && <p className="muted small">No node matches “{query}”.</p>}
        {groups.map((group) => (
          <section key={group.category}>
            <h4>{group.category}</h4>
            {group.definitions.map((definition) => (
              <button
                key={definition.type}
                className={styles.paletteItem}
                draggable
                onDragStart={(event) => {
                  event.dataTransfer.setData(NODE_DRAG_TYPE, definition.type);
                  event.dataTransfer.effectAllowed = "move";
                }}
                onClick={() => onAdd(definition.type)}
                title={`${definition.description}\nDrag onto the canvas, or click to add.`}
                data-testid={`palette-${definition.type}`}
              >
                <strong>{definition.title}</strong>
                <span>{definition.description}</span>
              </button>
            ))}
          </section>
        ))}
      </div>
    </aside>
  );
}
