// A node type's parameters as text for people: each one's default, allowed values or bounds and description,
// read from the node's own zod schema (through its JSON Schema, as the API docs are), so help cannot drift
// from what validation accepts.
import { z } from "zod";
import type { AnyNodeDefinition } from "../../nodes/graph/define-node";

export interface ParamDoc {
  name: string;
  default: unknown;
  /** e.g. `integer 16..4096`, `auto | integer 0..512`, `png | jpeg | webp`. */
  allowed: string;
  description: string;
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  prefixItems?: JsonSchema[];
  items?: JsonSchema | false;
  properties?: Record<string, JsonSchema>;
  default?: unknown;
  description?: string;
}

export function paramDocs(definition: AnyNodeDefinition): ParamDoc[] {
  const schema = z.toJSONSchema(definition.params, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    default: property.default,
    allowed: allowedValues(property),
    description: property.description ?? "",
  }));
}

/** The values a JSON Schema allows, briefly. */
function allowedValues(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map(String).join(" | ");
  if (schema.const !== undefined) return String(schema.const);
  if (schema.anyOf) return schema.anyOf.map(allowedValues).join(" | ");
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type;
  switch (type) {
    case "integer":
    case "number":
      return `${type}${bounds(schema.minimum, schema.maximum, "..")}`;
    case "boolean":
      return "true | false";
    case "string":
      if (schema.pattern) return `text matching ${schema.pattern}`;
      return `text${bounds(schema.minLength, schema.maxLength, "-", " chars")}`;
    case "array": {
      const items = schema.prefixItems ?? (schema.items ? [schema.items] : []);
      const each = [...new Set(items.map(allowedValues))];
      return each.length === 1 && schema.prefixItems ? `[${items.length} × ${each[0]}]` : `[${each.join(", ")}]`;
    }
    case "object": {
      const properties = Object.entries(schema.properties ?? {});
      const each = [...new Set(properties.map(([, property]) => allowedValues(property)))];
      return `{ ${properties.map(([name]) => name).join(", ")} }${each.length === 1 ? ` each ${each[0]}` : ""}`;
    }
    default:
      return type ?? "any";
  }
}

function bounds(min: number | undefined, max: number | undefined, between: string, unit = ""): string {
  if (min === undefined && max === undefined) return "";
  if (max === undefined) return ` >= ${min}${unit}`;
  if (min === undefined) return ` <= ${max}${unit}`;
  return ` ${min}${between}${max}${unit}`;
}
