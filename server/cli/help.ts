// The help of every `tudsr` command: `tudsr <command> --help` (or `tudsr help <command>`) prints its usage,
// flags and examples; `tudsr --help` lists the commands. A new command is one entry here and one case in main.ts.

export interface CommandHelp {
  /** One line for the list of commands. */
  summary: string;
  usage: string[];
  flags: [flag: string, what: string][];
  examples: string[];
  /** What else to know (defaults, environment). */
  notes?: string[];
}

const MODEL_FILTERS = "[--content photo|art|unknown] [--degradation bicubic|real-world|unknown]";

export const COMMANDS: Record<string, CommandHelp> = {
  run: {
    summary: "run a template or pipeline on images, here or on a studio server",
    usage: [
      "tudsr run <template-id | pipeline.json> --input [name=]<image> [--output [name=]<image>] [--set <node>.<param>=<value>]... [--json]",
      "tudsr run <template-id | pipeline-id | pipeline.json> ... --server <url> [--key <key>]",
    ],
    flags: [
      ["--input [name=]path", 'a run input (a plain path is the input named "input"); repeatable'],
      ["--output [name=]path", 'where a run output goes (a plain path is the output named "output"); the extension picks the format: .png, .jpg, .webp; repeatable'],
      ["--set node.param=value", "override a parameter of one node (`tudsr templates <id>` lists them with their bounds); repeatable"],
      ["--json", "print one JSON object on stdout: { outputs, metrics, nodes: [{ id, type, ms }], totalMs }"],
      ["--server url", "run on a studio server through its HTTP API: upload, start, follow, download (Ctrl-C cancels it)"],
      ["--key key", "the server's API key (default $TUDSR_API_KEY; `tudsr keys create <name>` on the server)"],
    ],
    examples: [
      "tudsr run x4-chunked --input photo.png --output photo-x4.png",
      "tudsr run x8-twice --input small.png --output big.png --set chunk1.tileSize=192 --set stitch2.blend=linear",
      "tudsr run eval-x4 --input reference.png --json",
      "tudsr run my-pipeline.json --input photo.jpg --output out.webp",
      'tudsr run x4-chunked --input photo.png --output photo-x4.png --server http://127.0.0.1:3000 --key "$KEY"',
    ],
    notes: ["A bad input exits non-zero with one line naming the problem, and nothing is written to --output."],
  },
  plan: {
    summary: "before running: the tiles each chunk node will cut, each generate node's predicted time, the run's total and peak memory",
    usage: ["tudsr plan <template-id | pipeline.json> --input [name=]<image> [--set <node>.<param>=<value>]... [--json]"],
    flags: [
      ["--input [name=]path", 'a run input (only its header is read); a plain path is the input named "input"; repeatable'],
      ["--set node.param=value", "override a parameter of one node, as for run; repeatable"],
      ["--json", "print the plan as JSON: { inputs, nodes: [{ nodeId, type, iteration?, outputs, ms, detail? }], totalMs, peakBytes, peakNodeId }"],
    ],
    examples: ["tudsr plan x4-chunked --input photo.png", "tudsr plan x8-twice --input small.png --set chunk1.tileSize=192 --set generate1.precision=fp32"],
    notes: ["Predictions come from this machine's measurements: real runs of the same model, precision, provider and tile size, else the calibration (a few seconds, the first time a model is used)."],
  },
  templates: {
    summary: "the built-in pipelines; one template's nodes, parameters (defaults, bounds), inputs and outputs",
    usage: ["tudsr templates [--json]", "tudsr templates <id> [--json]"],
    flags: [["--json", "print the list, or the template, as JSON"]],
    examples: ["tudsr templates", "tudsr templates x8-twice", "tudsr templates eval-real-x4 --json"],
  },
  models: {
    summary: "the models (scale, range, content, trained on, speed, padding, licences); add or delete your own",
    usage: [
      `tudsr models ${MODEL_FILTERS} [--scale N] [--built-in | --uploaded] [--search text] [--json]`,
      `tudsr models add <model.onnx> | <model.param> <model.bin> [--id id] [--title title] ${MODEL_FILTERS} [--json]`,
      "tudsr models delete <id>",
    ],
    flags: [
      ["--content, --degradation", "filter (list) or declare (add): what the model suits and what it was trained on"],
      ["--scale N", "only models of this scale"],
      ["--built-in | --uploaded", "only the built-in or only the uploaded models"],
      ["--search text", "words in the id, title, architecture, weights' origin, licences or source"],
      ["--id, --title", "the id and title of an added model (default: from the file name)"],
      ["--json", "print JSON"],
    ],
    examples: ["tudsr models --content photo --degradation real-world --scale 4", "tudsr models add my.param my.bin --id my-x4", "tudsr models delete my-x4"],
  },
  keys: {
    summary: "API keys for scripts: create (printed once), list, revoke",
    usage: ["tudsr keys create <name>", "tudsr keys list", "tudsr keys revoke <id | prefix>"],
    flags: [],
    examples: ['KEY=$(tudsr keys create "nightly batch")', "tudsr keys list", "tudsr keys revoke tudsr_af64fb69"],
    notes: ["The secret is printed once, alone on stdout; the studio keeps only its SHA-256."],
  },
  "ui-link": {
    summary: "print the browser sign-in link again",
    usage: ["tudsr ui-link [--origin <url>]"],
    flags: [["--origin url", "the studio's address (default http://127.0.0.1:3000)"]],
    examples: ["tudsr ui-link", "tudsr ui-link --origin https://studio.example.org"],
  },
  worker: {
    summary: "a worker of the distributed run queue (needs TUDSR_REDIS_URL; README: Scale out)",
    usage: ["tudsr worker [--concurrency N]"],
    flags: [["--concurrency N, -c N", "runs executed at once (default $TUDSR_RUN_CONCURRENCY, else 1)"]],
    examples: ["TUDSR_REDIS_URL=redis://10.0.0.5:6379 DATABASE_URL=postgresql://... tudsr worker --concurrency 2"],
    notes: ["Needs the same Postgres, Redis and artifact store as the web app; SIGTERM hands its runs back to the queue."],
  },
};

/** `tudsr --help`: every command with its first usage line and summary. */
export function overview(): string {
  const lines = ["usage: tudsr <command> [flags]   (tudsr <command> --help: its flags and examples)", ""];
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  for (const [name, help] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(width)}  ${help.summary}`);
  return lines.join("\n");
}

/** One command's help: usage, flags, examples (and notes). */
export function commandHelp(name: string): string {
  const help = COMMANDS[name];
  if (!help) throw new Error(`no help for "${name}" (commands: ${Object.keys(COMMANDS).join(", ")})`);
  const lines = [`tudsr ${name}: ${help.summary}`, "", "usage:", ...help.usage.map((line) => `  ${line}`)];
  if (help.flags.length > 0) {
    const width = Math.max(...help.flags.map(([flag]) => flag.length));
    lines.push("", "flags:", ...help.flags.map(([flag, what]) => `  ${flag.padEnd(width)}  ${what}`));
  }
  lines.push("", "examples:", ...help.examples.map((line) => `  ${line}`));
  if (help.notes) lines.push("", ...help.notes);
  return lines.join("\n");
}

/** True when argv asks for help (a flag anywhere, as other CLIs accept it). */
export function asksForHelp(argv: string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}
