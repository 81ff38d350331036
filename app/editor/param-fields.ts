// The pure logic behind the parameter form: a node's zod schema turned into field descriptions, typed text
// parsed with messages that name the bound, default detection, and the one-line summary shown on nodes.
// Fields come from zod's own JSON Schema export (public API: type, bounds, enum, default and description for
// every property), so zod internals never leak in here; the schema itself stays the final judge of a value.
import { z } from "zod";
import type { AnyNodeDefinition } from "../../nodes/graph/define-node";

export type Primitive = string | number | boolean | null;

interface FieldBase {
  /** The property name in its parent object. */
  key: string;
  /** From the params root, e.g. ["kernelProb", "iso"]; tuple items end in their index. */
  path: string[];
  label: string;
  help: string;
  /** undefined when the schema gives none. */
  defaultValue: unknown;
  /** May be left out: no default and not required. */
  optional: boolean;
  nullable: boolean;
}

export interface NumberField extends FieldBase {
  /** "seed": an integer named seed, edited with a random button. */
  kind: "number" | "seed";
  integer: boolean;
  min?: number;
  max?: number;
  minExclusive: boolean;
  maxExclusive: boolean;
  step: number;
  /** Both bounds known and the range small enough to drag through. */
  slider: boolean;
  /** A word also accepted instead of a number (z.union([z.literal("auto"), z.number()])): "auto". */
  keyword?: string;
}

export interface EnumField extends FieldBase {
  kind: "enum";
  options: Primitive[];
}

export interface BooleanField extends FieldBase {
  kind: "boolean";
}

export interface TextField extends FieldBase {
  /** "model": a string named model, picked from the installed models. */
  kind: "string" | "model";
  minLength?: number;
  maxLength?: number;
}

export interface TupleField extends FieldBase {
  kind: "tuple";
  items: NumberField[];
}

export interface GroupField extends FieldBase {
  kind: "group";
  fields: Field[];
}

/** Anything the kinds above do not cover, edited as JSON text; the schema still validates it. */
export interface JsonField extends FieldBase {
  kind: "json";
}

export type Field = NumberField | EnumField | BooleanField | TextField | TupleField | GroupField | JsonField;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** The part of JSON Schema that z.toJSONSchema writes for the types params use. */
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  prefixItems?: JsonSchema[];
  items?: JsonSchema | boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  description?: string;
}

const ACRONYMS = new Set(["id", "usm", "jpeg", "png", "webp", "psnr", "ssim", "onnx", "rgb", "url", "cpu", "gpu"]);

function labelWords(name: string): string[] {
  return name
    .replace(/[_-]+/g, " ")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .replace(/([A-Za-z])(\d)/g, "$1 $2")
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .map((word) => (ACRONYMS.has(word) ? word.toUpperCase() : word));
}

/** "tileSize" -> "Tile size", "usmSharpen" -> "USM sharpen", "blurSigma2" -> "Blur sigma 2". */
export function humanize(name: string): string {
  const text = labelWords(name).join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const fieldCache = new WeakMap<z.ZodObject, Field[]>();

/** One field per property, in schema order; cached per schema, since the form asks on every render. */
export function paramFields(schema: z.ZodObject): Field[] {
  let fields = fieldCache.get(schema);
  if (!fields) {
    fields = objectFields(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema, [], undefined);
    fieldCache.set(schema, fields);
  }
  return fields;
}

function objectFields(json: JsonSchema, path: string[], parentDefault: unknown): Field[] {
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([key, property]) =>
    buildField(key, property, [...path, key], required.has(key), isRecord(parentDefault) ? parentDefault[key] : undefined),
  );
}

/** Splits `anyOf: [X, null]` and `type: [t, "null"]` into X and a nullable flag. */
function unwrapNullable(json: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const isNull = (s: JsonSchema) => s.type === "null";
  if (json.anyOf && json.anyOf.some(isNull)) {
    const rest = json.anyOf.filter((s) => !isNull(s));
    return { schema: rest.length === 1 ? rest[0] : { anyOf: rest }, nullable: true };
  }
  if (Array.isArray(json.type) && json.type.includes("null")) {
    const types = json.type.filter((t) => t !== "null");
    return { schema: { ...json, type: types.length === 1 ? types[0] : types }, nullable: true };
  }
  return { schema: json, nullable: false };
}

function buildField(key: string, property: JsonSchema, path: string[], required: boolean, inheritedDefault: unknown): Field {
  const { schema, nullable } = unwrapNullable(property);
  // A nested property's default comes from its parent's default object, which zod puts on the parent only.
  const defaultValue = inheritedDefault !== undefined ? inheritedDefault : "default" in property ? property.default : schema.default;
  const base: FieldBase = {
    key,
    path,
    label: humanize(key),
    help: property.description ?? schema.description ?? "",
    defaultValue,
    optional: !required && defaultValue === undefined,
    nullable,
  };
  const options = enumOptions(schema);
  if (options) return { ...base, kind: "enum", options };
  const keyworded = keywordOrNumber(schema);
  if (keyworded) return { ...numberField(base, keyworded.number), keyword: keyworded.keyword };
  switch (schema.type) {
    case "boolean":
      // A checkbox has no third state for "not set".
      return base.optional ? { ...base, kind: "enum", options: [true, false] } : { ...base, kind: "boolean" };
    case "integer":
    case "number":
      return numberField(base, schema);
    case "string":
      return { ...base, kind: key === "model" ? "model" : "string", minLength: schema.minLength, maxLength: schema.maxLength };
    case "object":
      if (schema.properties) return { ...base, kind: "group", fields: objectFields(schema, path, defaultValue) };
      break;
    case "array": {
      const items = schema.prefixItems;
      if (schema.items === false && items?.length && items.every((item) => item.type === "number" || item.type === "integer")) {
        const names = itemNames(base, items.length);
        return {
          ...base,
          kind: "tuple",
          items: sameStep(
            items.map((item, i) => {
              const itemDefault = Array.isArray(defaultValue) ? defaultValue[i] : item.default;
              const itemBase = { key: String(i), path: [...path, String(i)], label: names[i], help: "", defaultValue: itemDefault, optional: false, nullable: false };
              return numberField(itemBase, item);
            }),
          ),
        };
      }
      break;
    }
  }
  return { ...base, kind: "json" };
}

function isPrimitive(value: unknown): value is Primitive {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/** `"auto" | number`: one string literal beside one number schema. */
function keywordOrNumber(schema: JsonSchema): { keyword: string; number: JsonSchema } | undefined {
  if (schema.anyOf?.length !== 2) return undefined;
  const word = schema.anyOf.find((option) => typeof option.const === "string");
  const number = schema.anyOf.find((option) => option.type === "number" || option.type === "integer");
  return word && number ? { keyword: word.const as string, number } : undefined;
}

/** z.enum, z.literal and unions of literals; undefined for anything else. */
function enumOptions(schema: JsonSchema): Primitive[] | undefined {
  const values = schema.enum ?? ("const" in schema ? [schema.const] : schema.anyOf?.every((s) => "const" in s) ? schema.anyOf.map((s) => s.const) : undefined);
  return values && values.length > 0 && values.every(isPrimitive) ? values : undefined;
}

/** The finest step for every item, so the two ends of a range step alike. */
function sameStep(items: NumberField[]): NumberField[] {
  const step = Math.min(...items.map((item) => item.step));
  return items.map((item) => ({ ...item, step }));
}

/** Item names from a bracketed list in the description ("weights of [up, down, keep]"), else low/high for ranges. */
function itemNames(base: FieldBase, count: number): string[] {
  const listed = /\[([^\]]+)\]/.exec(base.help)?.[1].split(",").map((name) => name.trim());
  if (listed?.length === count && listed.every((name) => /^[A-Za-z][\w ]{0,19}$/.test(name))) return listed;
  if (count === 2 && /range/i.test(`${base.key} ${base.help}`)) return ["low", "high"];
  return Array.from({ length: count }, (_, i) => `#${i + 1}`);
}

// Bounds this wide are zod's defaults for a bare .int(), not a real limit.
const knownBound = (value: number | undefined) => (value !== undefined && Math.abs(value) < Number.MAX_SAFE_INTEGER ? value : undefined);

function numberField(base: FieldBase, schema: JsonSchema): NumberField {
  const integer = schema.type === "integer";
  const min = knownBound(schema.minimum ?? schema.exclusiveMinimum);
  const max = knownBound(schema.maximum ?? schema.exclusiveMaximum);
  const step = schema.multipleOf ?? numberStep(integer, min, max, base.defaultValue);
  return {
    ...base,
    kind: integer && base.key === "seed" ? "seed" : "number",
    integer,
    min,
    max,
    minExclusive: schema.minimum === undefined && min !== undefined,
    maxExclusive: schema.maximum === undefined && max !== undefined,
    step,
    slider: min !== undefined && max !== undefined && max - min <= 1000,
  };
}

function decimals(value: number): number {
  const [mantissa, exponent] = String(value).split("e");
  const fraction = mantissa.split(".")[1]?.length ?? 0;
  return Math.min(12, Math.max(0, fraction - Number(exponent ?? 0)));
}

/** 1 for integers; else a hundredth of the range's magnitude, fine enough to hit the bounds and the default. */
function numberStep(integer: boolean, min: number | undefined, max: number | undefined, defaultValue: unknown): number {
  if (integer) return 1;
  const places = [min, max, defaultValue].filter((v): v is number => typeof v === "number").map(decimals);
  const fromRange = min !== undefined && max !== undefined && max > min ? 2 - Math.floor(Math.log10(max - min)) : 1;
  return 10 ** -Math.max(fromRange, ...places);
}

function roundToStep(value: number, step: number): number {
  return Number(value.toFixed(decimals(step)));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Structural equality for param values (JSON-like data). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && sameValue(a[key], b[key]));
  }
  return false;
}

/** What a field shows: the stored value, or its default when the value is left out. */
export function shownValue(field: Field, value: unknown): unknown {
  return value === undefined ? field.defaultValue : value;
}

export function isDefaultValue(field: Field, value: unknown): boolean {
  return value === undefined || (field.defaultValue !== undefined && sameValue(value, field.defaultValue));
}

/** The params with one key set in place, or left out when the value is undefined. */
export function withParam(params: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  if (value !== undefined) return { ...params, [key]: value };
  const { [key]: _left, ...rest } = params;
  return rest;
}

/** A group's value with every child present (stored, else its default), the base for editing one child. */
export function groupValue(field: GroupField, value: unknown): Record<string, unknown> {
  const stored = isRecord(shownValue(field, value)) ? (shownValue(field, value) as Record<string, unknown>) : {};
  const filled: Record<string, unknown> = {};
  for (const child of field.fields) {
    const shown = shownValue(child, stored[child.key]);
    if (shown !== undefined) filled[child.key] = shown;
  }
  return filled;
}

/** A tuple's items (stored, else the default, else each item's default). */
export function tupleValue(field: TupleField, value: unknown): unknown[] {
  const shown = shownValue(field, value);
  return field.items.map((item, i) => (Array.isArray(shown) && shown[i] !== undefined ? shown[i] : item.defaultValue));
}

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function boundError(field: NumberField, value: number): string | undefined {
  if (field.min !== undefined && (field.minExclusive ? value <= field.min : value < field.min)) {
    return field.minExclusive ? `must be more than ${field.min}` : `must be at least ${field.min}`;
  }
  if (field.max !== undefined && (field.maxExclusive ? value >= field.max : value > field.max)) {
    return field.maxExclusive ? `must be less than ${field.max}` : `must be at most ${field.max}`;
  }
  return undefined;
}

/** Typed text to a number; empty is null or "not set" where the schema allows it. A decimal comma is accepted. */
export function parseNumberText(field: NumberField, text: string): Parsed<number | string | null | undefined> {
  const trimmed = text.trim().replace(/^([+-]?\d*),(\d+)$/, "$1.$2");
  if (field.keyword && trimmed.toLowerCase() === field.keyword) return { ok: true, value: field.keyword };
  if (trimmed === "") {
    if (field.nullable) return { ok: true, value: null };
    if (field.optional) return { ok: true, value: undefined };
    return { ok: false, error: "enter a number" };
  }
  if (!NUMBER_TEXT.test(trimmed)) return { ok: false, error: `"${text.trim()}" is not a number${field.keyword ? ` or ${field.keyword}` : ""}` };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { ok: false, error: `"${text.trim()}" is too large` };
  if (field.integer && !Number.isInteger(value)) return { ok: false, error: "must be a whole number" };
  const error = boundError(field, value);
  return error ? { ok: false, error } : { ok: true, value };
}

export function parseStringText(field: TextField, text: string): Parsed<string | null | undefined> {
  if (text === "" && (field.nullable || field.optional)) return { ok: true, value: field.nullable ? null : undefined };
  if (field.minLength !== undefined && text.length < field.minLength) {
    return { ok: false, error: field.minLength === 1 ? "must not be empty" : `must be at least ${field.minLength} characters` };
  }
  if (field.maxLength !== undefined && text.length > field.maxLength) return { ok: false, error: `must be at most ${field.maxLength} characters` };
  return { ok: true, value: text };
}

export function parseJsonText(field: JsonField, text: string): Parsed<unknown> {
  if (text.trim() === "" && (field.nullable || field.optional)) return { ok: true, value: field.nullable ? null : undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The text an input shows for a value. */
export function formatText(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
}

/** The schema's verdict on one top-level param value: its first issue, or undefined when valid. */
export function checkParam(definition: AnyNodeDefinition, key: string, value: unknown): string | undefined {
  const schema = definition.params.shape[key] as z.ZodType | undefined;
  if (!schema) return `"${key}" is not a param of ${definition.type}`;
  const result = schema.safeParse(value);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  return issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}

/** Arrow-key stepping: one step (ten with Shift), rounded to the step and kept inside inclusive bounds. */
export function stepNumber(field: NumberField, from: number, direction: 1 | -1, large: boolean): number {
  let next = roundToStep(from + direction * field.step * (large ? 10 : 1), field.step);
  if (field.min !== undefined && !field.minExclusive) next = Math.max(field.min, next);
  if (field.max !== undefined && !field.maxExclusive) next = Math.min(field.max, next);
  return next;
}

/** A slider position as a clean number (no 0.30000000000000004). */
export function sliderNumber(field: NumberField, raw: string): number {
  return roundToStep(Number(raw), field.step);
}

/** A uniformly random integer within the seed's bounds (0 .. 2^32-1 when unbounded). */
export function randomSeed(field: NumberField, random: () => number = Math.random): number {
  const lo = field.min === undefined ? 0 : field.minExclusive ? Math.floor(field.min) + 1 : Math.ceil(field.min);
  const hi = field.max === undefined ? 2 ** 32 - 1 : field.maxExclusive ? Math.ceil(field.max) - 1 : Math.floor(field.max);
  return lo + Math.floor(random() * (hi - lo + 1));
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** A value as short text, for summaries and the reset button. */
export function formatShort(field: Field, value: unknown): string {
  if (value === undefined) return "not set";
  if (value === null) return "none";
  switch (field.kind) {
    case "boolean":
      return value ? "on" : "off";
    case "number":
    case "seed":
      return typeof value === "number" ? formatNumber(value) : formatText(value);
    case "tuple":
      return Array.isArray(value) ? value.map((item) => (typeof item === "number" ? formatNumber(item) : formatText(item))).join(value.length === 2 ? "–" : "/") : formatText(value);
    case "group": {
      if (!isRecord(value)) return formatText(value);
      const changed = field.fields.filter((child) => !isDefaultValue(child, value[child.key]));
      // A partial object equal to the defaults where given still differs from the default as a whole.
      return changed.map((child) => `${summaryLabel(child)} ${formatShort(child, value[child.key])}`).join(", ") || "custom";
    }
    default:
      return formatText(value);
  }
}

function summaryLabel(field: Field): string {
  return labelWords(field.key).join(" ");
}

/** One line of the params that differ from their defaults, for the node on the canvas: "tile size 256 · overlap 32". */
export function summarizeParams(definition: AnyNodeDefinition, params: Record<string, unknown>): string {
  return paramFields(definition.params)
    .filter((field) => !isDefaultValue(field, params[field.key]))
    .map((field) => `${summaryLabel(field)} ${formatShort(field, params[field.key])}`)
    .join(" · ");
}
