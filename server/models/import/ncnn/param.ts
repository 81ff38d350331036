// The ncnn text `.param` (ncnn src/net.cpp): "7767517", "<layer count> <blob count>", then one layer a line:
// `Type name <bottom count> <top count> bottoms... tops... id=value...`, where an id of -23300-k is the array
// parameter k written "count,v1,v2,...". Values with a '.' or an exponent are floats.

const MAGIC = "7767517";

/** A problem with an ncnn model: the message names the layer (type, name, line of the .param) where one is to blame. */
export class NcnnImportError extends Error {}

type ParamValue = { kind: "number"; value: number; float: boolean } | { kind: "array"; values: number[] } | { kind: "string"; value: string };

export interface NcnnLayer {
  type: string;
  name: string;
  line: number; // 1-based line of the .param
  bottoms: string[];
  tops: string[];
  params: Map<number, ParamValue>;
}

export function where(layer: NcnnLayer): string {
  return `layer ${layer.type} "${layer.name}" (line ${layer.line} of the .param)`;
}

export function layerError(layer: NcnnLayer, problem: string): NcnnImportError {
  return new NcnnImportError(`${where(layer)}: ${problem}`);
}

function parseNumber(text: string): number | undefined {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) && !/^[-+]?(inf|nan)$/i.test(text)) return undefined;
  const value = Number(text.replace(/^([-+]?)inf$/i, "$1Infinity"));
  return value;
}

/** Parses the text .param: its layers, checked against the header's layer and blob counts. */
export function parseNcnnParam(text: string): NcnnLayer[] {
  const lines = text.split(/\r?\n/);
  let index = 0;
  const nextLine = (): { tokens: string[]; line: number } | undefined => {
    while (index < lines.length) {
      const tokens = lines[index].trim().split(/\s+/).filter(Boolean);
      index += 1;
      if (tokens.length > 0) return { tokens, line: index };
    }
    return undefined;
  };

  const magic = nextLine();
  if (!magic || magic.tokens[0] !== MAGIC || magic.tokens.length !== 1) {
    const seen = magic ? `line ${magic.line} is "${magic.tokens.join(" ").slice(0, 60)}"` : "the file is empty";
    throw new NcnnImportError(`not an ncnn text .param: it must start with the magic number ${MAGIC} (${seen})`);
  }
  const header = nextLine();
  const [layerCount, blobCount] = (header?.tokens ?? []).map((token) => (/^\d+$/.test(token) ? Number(token) : NaN));
  if (!header || header.tokens.length !== 2 || !(layerCount > 0) || !(blobCount > 0)) {
    const seen = header ? `line ${header.line} is "${header.tokens.join(" ").slice(0, 60)}"` : "it ends after the magic number";
    throw new NcnnImportError(`malformed ncnn .param header: expected "<layer count> <blob count>" after ${MAGIC} (${seen})`);
  }

  const layers: NcnnLayer[] = [];
  const produced = new Map<string, NcnnLayer>();
  for (let entry = nextLine(); entry; entry = nextLine()) {
    const { tokens, line } = entry;
    const [type, name, bottomText, topText] = tokens;
    const describe = `${type ?? "?"} "${name ?? "?"}" (line ${line} of the .param)`;
    const bottomCount = Number(bottomText);
    const topCount = Number(topText);
    if (tokens.length < 4 || !Number.isInteger(bottomCount) || !Number.isInteger(topCount) || bottomCount < 0 || topCount < 0) {
      throw new NcnnImportError(`layer ${describe}: expected "<type> <name> <bottom count> <top count> <blobs...> <params...>"`);
    }
    if (tokens.length < 4 + bottomCount + topCount) {
      throw new NcnnImportError(`layer ${describe}: it names ${tokens.length - 4} blobs, its counts say ${bottomCount} bottom + ${topCount} top`);
    }
    const layer: NcnnLayer = {
      type,
      name,
      line,
      bottoms: tokens.slice(4, 4 + bottomCount),
      tops: tokens.slice(4 + bottomCount, 4 + bottomCount + topCount),
      params: new Map(),
    };
    for (const token of tokens.slice(4 + bottomCount + topCount)) parseParamToken(layer, token);
    for (const bottom of layer.bottoms) {
      if (!produced.has(bottom)) throw layerError(layer, `bottom blob "${bottom}" does not exist (no earlier layer produces it)`);
    }
    for (const top of layer.tops) {
      const other = produced.get(top);
      if (other) throw layerError(layer, `top blob "${top}" is already produced by ${where(other)}`);
      produced.set(top, layer);
    }
    layers.push(layer);
  }
  const last = layers.at(-1);
  if (!last) throw new NcnnImportError(`the .param has no layers (its header says ${layerCount})`);
  if (layers.length !== layerCount) {
    throw layerError(last, `the header says ${layerCount} layers, but the .param has ${layers.length} (this is the last one)`);
  }
  if (produced.size !== blobCount) {
    throw layerError(last, `the header says ${blobCount} blobs, but the layers produce ${produced.size} (this is the last layer)`);
  }
  return layers;
}

function parseParamToken(layer: NcnnLayer, token: string): void {
  const match = /^(-?\d+)=(.*)$/.exec(token);
  if (!match) throw layerError(layer, `malformed parameter "${token}" (expected id=value)`);
  const id = Number(match[1]);
  const text = match[2];
  if (id <= -23300) {
    const [countText, ...items] = text.split(",");
    const values = items.map(parseNumber);
    if (Number(countText) !== items.length || values.some((value) => value === undefined)) {
      throw layerError(layer, `malformed array parameter "${token}" (expected count,v1,v2,...)`);
    }
    layer.params.set(-id - 23300, { kind: "array", values: values as number[] });
  } else if (text.startsWith('"')) {
    layer.params.set(id, { kind: "string", value: text.replace(/^"|"$/g, "") });
  } else {
    const value = parseNumber(text);
    if (value === undefined) throw layerError(layer, `malformed parameter "${token}" (not a number)`);
    layer.params.set(id, { kind: "number", value, float: /[.eEn]/.test(text) });
  }
}

export function intParam(layer: NcnnLayer, id: number, fallback: number): number {
  const param = layer.params.get(id);
  if (!param) return fallback;
  if (param.kind !== "number") throw layerError(layer, `parameter ${id} must be a number`);
  return Math.trunc(param.value);
}

export function floatParam(layer: NcnnLayer, id: number, fallback: number): number {
  const param = layer.params.get(id);
  if (!param) return fallback;
  if (param.kind !== "number") throw layerError(layer, `parameter ${id} must be a number`);
  return param.value;
}

export function arrayParam(layer: NcnnLayer, id: number): number[] | undefined {
  const param = layer.params.get(id);
  if (!param) return undefined;
  if (param.kind === "number") return [param.value];
  if (param.kind !== "array") throw layerError(layer, `parameter ${id} must be an array`);
  return param.values;
}

/** An int parameter per axis, as ncnn numbers them: `id` for the width, id + 10 for the height (default: the width). */
export function widthHeightParam(layer: NcnnLayer, id: number, fallback: number): [width: number, height: number] {
  const width = intParam(layer, id, fallback);
  return [width, intParam(layer, id + 10, width)];
}

/** Padding, as ncnn numbers it: left `id`, right id + 11 and top id + 10 (default: left), bottom id + 12 (default: top). */
export function padParams(layer: NcnnLayer, id: number): { left: number; right: number; top: number; bottom: number } {
  const left = intParam(layer, id, 0);
  const right = intParam(layer, id + 11, left);
  const top = intParam(layer, id + 10, left);
  return { left, right, top, bottom: intParam(layer, id + 12, top) };
}
