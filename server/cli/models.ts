// `tudsr models [filters]`, `tudsr models add <model.onnx | model.param model.bin>`, `tudsr models delete <id>`,
// `tudsr models int8 <id>`.
// The list reads the models folder's manifest (no database); add and delete are in-process calls of the same
// procedures the studio uses (the CLI holds the data folder, so it needs no key).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { COPYLEFT_NOTE, describeDegradation, describePadding, filterModels, isCopyleft, type ModelFilter, modelFilterSchema, shortLicense } from "../models/filter";
import { int8Offer, type ModelManifestEntry, readModelManifest } from "../models/manifest";
import { CliUsageError } from "./usage-error";

export const MODELS_USAGE = `  tudsr models [--content photo|art|unknown] [--degradation bicubic|real-world|unknown] [--scale N]
               [--built-in | --uploaded] [--search text] [--json]
                                     the models: scale, range, content, trained on, speed, padding, licences
  tudsr models add <model.onnx> | <model.param> <model.bin> [--id id] [--title title]
               [--content photo|art|unknown] [--degradation bicubic|real-world|unknown] [--json]
                                     add your own model (an ncnn pair is converted to ONNX), probed for its scale
  tudsr models delete <id>           remove an uploaded model
  tudsr models int8 <id>             make the int8 variant of a model (uploaded, or built-in outside the templates):
                                     quantized, measured against fp32, offered only when it passes the gate`;

export async function modelsCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === "add") return addModel(rest);
  if (action === "delete" || action === "remove") return deleteModelCommand(rest);
  if (action === "int8") return int8Command(rest);
  if (action === "help" || action === "--help") {
    console.log(MODELS_USAGE);
    return 0;
  }
  if (action !== undefined && !action.startsWith("-")) {
    throw new CliUsageError(`models: unknown action "${action}" (add, delete, int8, or filters for the list)\n${MODELS_USAGE}`);
  }
  return listModelsCommand(argv);
}

/** A zod failure of CLI flags as one usage line: "--content: Invalid option: expected one of ...". */
function flagProblem(error: { issues: { path: PropertyKey[]; message: string }[] }, flags: Record<string, string> = {}): CliUsageError {
  const issue = error.issues[0];
  const key = String(issue.path[0] ?? "");
  return new CliUsageError(`--${flags[key] ?? key}: ${issue.message}`);
}

function parseFilter(values: { content?: string; degradation?: string; scale?: string; "built-in"?: boolean; uploaded?: boolean; search?: string }): ModelFilter {
  if (values["built-in"] && values.uploaded) throw new CliUsageError("--built-in and --uploaded exclude each other");
  const parsed = modelFilterSchema.safeParse({
    content: values.content,
    degradation: values.degradation,
    scale: values.scale,
    kind: values["built-in"] ? "built-in" : values.uploaded ? "uploaded" : undefined,
    q: values.search,
  });
  if (!parsed.success) throw flagProblem(parsed.error, { q: "search", kind: "built-in" });
  return parsed.data;
}

function formatCount(count: number): string {
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)} M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)} k`;
  return String(count);
}

function packageOf(model: ModelManifestEntry): string {
  return "package" in model.source ? `${model.source.package}@${model.source.version}` : `upload ${model.source.upload}`;
}

/** The package (or upload) licence, with a mark when it is copyleft. */
function packageLicence(model: ModelManifestEntry): string {
  const license = shortLicense(model.license);
  return isCopyleft(model.license) ? `${license} (copyleft!)` : license;
}

/** Left-aligned columns, each as wide as its longest cell; the last one is not padded. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join("  "));
}

async function listModelsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      content: { type: "string" },
      degradation: { type: "string" },
      scale: { type: "string" },
      "built-in": { type: "boolean" },
      uploaded: { type: "boolean" },
      search: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 0) throw new CliUsageError(`models: unexpected "${positionals[0]}"\n${MODELS_USAGE}`);
  const filter = parseFilter(values);
  const models = filterModels((await readModelManifest()).models, filter);
  if (values.json) {
    console.log(JSON.stringify(models.map((model) => ({ ...model, copyleft: isCopyleft(model.license) })), null, 2));
    return 0;
  }
  if (models.length === 0) {
    console.log(Object.values(filter).some((value) => value !== undefined) ? "no model matches these filters" : "no models: run `npm run setup`");
    return 0;
  }
  const header = ["id", "scale", "range", "content", "trained on", "speed", "int8", "params", "padding", "architecture", "weights licence", "package", "package licence"];
  const rows = models.map((model) => [
    model.id,
    `x${model.scale}`,
    `${model.valueRange[0]}..${model.valueRange[1]}`,
    model.content,
    describeDegradation(model.degradation),
    model.speedClass,
    describeInt8(int8Offer(model)),
    formatCount(model.parameterCount),
    describePadding(model.padding) + (model.sizeMultiple > 1 ? `, /${model.sizeMultiple}` : ""),
    model.architecture,
    model.weights.license,
    packageOf(model),
    packageLicence(model),
  ]);
  const lines = table([header, ...rows]);
  console.log(lines[0]);
  const indent = " ".repeat(Math.max(...rows.map((row) => row[0].length)) + 2);
  models.forEach((model, index) => {
    console.log(lines[index + 1]);
    console.log(`${indent}weights: ${model.weights.origin}${isCopyleft(model.license) ? `; ${shortLicense(model.license)}: ${COPYLEFT_NOTE}` : ""}`);
    const int8 = int8Offer(model);
    if (!int8.offered && model.int8) console.log(`${indent}int8: not offered: ${int8.why}`);
  });
  return 0;
}

/** "2.49x (537 vs 1335 ms/128px, 40.6 dB)", or "-" when only fp32 runs. */
function describeInt8(int8: ReturnType<typeof int8Offer>): string {
  return int8.offered ? `${int8.speedup.toFixed(2)}x (${int8.int8Ms} vs ${int8.fp32Ms} ms/${int8.tile}px, ${int8.psnrDb} dB)` : "-";
}

async function addModel(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      id: { type: "string" },
      title: { type: "string" },
      content: { type: "string" },
      degradation: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const files = positionals;
  const onnx = files.length === 1 && /\.onnx$/i.test(files[0]);
  const pair = files.length === 2 && files.some((file) => /\.param$/i.test(file)) && files.some((file) => /\.bin$/i.test(file));
  if (!onnx && !pair) {
    const lone = files.length === 1 && /\.(param|bin)$/i.test(files[0]);
    throw new CliUsageError(
      lone
        ? `models add ${files[0]}: an ncnn model is a .param and its .bin; give both (tudsr models add model.param model.bin)`
        : `models add takes one .onnx file, or an ncnn .param and its .bin${files.length ? ` (got ${files.join(", ")})` : ""}\n${MODELS_USAGE}`,
    );
  }
  const form = new FormData();
  for (const file of files) {
    const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new CliUsageError(error.code === "ENOENT" ? `file not found: ${file}` : `cannot read ${file}: ${error.message}`);
    });
    const field = onnx ? "file" : /\.param$/i.test(file) ? "param" : "bin";
    form.set(field, new File([new Uint8Array(bytes)], path.basename(file)));
  }
  for (const key of ["id", "title", "content", "degradation"] as const) if (values[key] !== undefined) form.set(key, values[key]);

  // Loaded on use: the database and API modules stay out of the list's start-up.
  const [{ createCaller }, { localContext }, { closeDb }, { TRPCError }] = await Promise.all([
    import("../api/root"),
    import("../api/trpc"),
    import("../db/client"),
    import("@trpc/server"),
  ]);
  const api = createCaller(localContext());
  try {
    const model = await api.models.upload(form).catch((error: unknown) => {
      // A bad form field: one line naming the flag, as for the list's filters.
      if (error instanceof TRPCError && error.code === "BAD_REQUEST" && error.cause && "issues" in error.cause) {
        throw flagProblem(error.cause as unknown as { issues: { path: PropertyKey[]; message: string }[] });
      }
      throw error;
    });
    if (values.json) {
      console.log(JSON.stringify(model, null, 2));
      return 0;
    }
    const from = model.imported ? `${model.imported.param} + ${model.imported.bin} (ncnn, converted to a ${formatBytes(model.imported.onnxBytes)} ONNX file)` : files[0];
    console.log(`added ${model.id} ("${model.title}") from ${from}`);
    console.log(
      `  probe: x${model.scale}, ${model.layout}, value range ${model.valueRange[0]}..${model.valueRange[1]}, ` +
        `size multiple ${model.sizeMultiple}${model.sizeMultiple > 1 ? " (height and width are padded to it)" : ""}, ${formatCount(model.parameterCount)} parameters (${model.speedClass})`,
    );
    console.log(`  content ${model.content}, trained on ${describeDegradation(model.degradation)}; run it with --set generate.model=${model.id}`);
    return 0;
  } finally {
    await closeDb();
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MB` : `${(bytes / 1024).toFixed(0)} kB`;
}

async function deleteModelCommand(argv: string[]): Promise<number> {
  if (argv.length !== 1) throw new CliUsageError(`models delete takes one model id\n${MODELS_USAGE}`);
  const [{ createCaller }, { localContext }, { closeDb }] = await Promise.all([import("../api/root"), import("../api/trpc"), import("../db/client")]);
  try {
    await createCaller(localContext()).models.delete({ id: argv[0] });
    console.log(`deleted model ${argv[0]}`);
    return 0;
  } finally {
    await closeDb();
  }
}

async function int8Command(argv: string[]): Promise<number> {
  if (argv.length !== 1) throw new CliUsageError(`models int8 takes one model id\n${MODELS_USAGE}`);
  const [{ makeModelInt8 }, { closeDb }] = await Promise.all([import("../models/library"), import("../db/client")]);
  try {
    const model = await makeModelInt8(argv[0], (line) => console.log(line));
    console.log(model.int8.offered ? `${model.id}: int8 offered, ${describeInt8(model.int8)}` : `${model.id}: no int8 variant: ${model.int8.why}`);
    return model.int8.offered ? 0 : 1;
  } finally {
    await closeDb();
  }
}
