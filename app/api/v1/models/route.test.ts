// POST/GET /api/v1/models as a script meets them, in-process: the route handlers called with real Requests
// (multipart bodies built by fetch's own FormData encoder) and an API key of a fresh database. The pair upload
// (fields `param` + `bin`), the optional fields, the list filters, and the error answers.
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, it } from "node:test";
import { closeDb } from "../../../../server/db/client";
import { createApiKey } from "../../../../server/db/keys";
import { describeOnEachDatabase } from "../../../../server/test-support/databases";
import { DELETE } from "./[id]/route";
import { GET, POST } from "./route";

const ROOT = path.resolve(import.meta.dirname, "../../../..");
const REAL_MODELS = path.join(ROOT, "models");
const NCNN = path.join(ROOT, "fixtures", "ncnn");
const noParams = { params: Promise.resolve({}) } as never;

interface ErrorBody {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
}

describeOnEachDatabase("/api/v1/models", () => {
  let modelsDir: string;
  let auth: Record<string, string>;

  before(async () => {
    modelsDir = await mkdtemp(path.join(tmpdir(), "tudsr v1 models "));
    for (const name of await readdir(REAL_MODELS)) {
      if (name.endsWith(".onnx")) await symlink(path.join(REAL_MODELS, name), path.join(modelsDir, name));
    }
    await copyFile(path.join(REAL_MODELS, "manifest.json"), path.join(modelsDir, "manifest.json"));
    process.env.TUDSR_MODELS_DIR = modelsDir;
    auth = { authorization: `Bearer ${(await createApiKey("v1 models test")).secret}` };
  });

  after(async () => {
    delete process.env.TUDSR_MODELS_DIR;
    await closeDb();
    await rm(modelsDir, { recursive: true, force: true });
  });

  async function file(name: string, as = name): Promise<File> {
    return new File([new Uint8Array(await readFile(path.join(NCNN, name)))], as);
  }

  /** A multipart POST, encoded as fetch would send it. */
  async function post(form: FormData, headers = auth): Promise<{ status: number; body: Record<string, unknown> & ErrorBody }> {
    const encoded = new Request("http://127.0.0.1/api/v1/models", { method: "POST", body: form });
    const request = new Request(encoded.url, {
      method: "POST",
      headers: { ...headers, "content-type": encoded.headers.get("content-type")! },
      body: await encoded.arrayBuffer(),
    });
    const response = await POST(request, noParams);
    return { status: response.status, body: await response.json() };
  }

  async function get(query = ""): Promise<{ status: number; body: unknown }> {
    const response = await GET(new Request(`http://127.0.0.1/api/v1/models${query}`, { headers: auth }), noParams);
    return { status: response.status, body: await response.json() };
  }

  it("uploads an ncnn pair in `param` + `bin` with content and degradation, lists it by filter, deletes it", async () => {
    const form = new FormData();
    form.set("param", await file("realesr-animevideov3-x2.param"));
    form.set("bin", await file("realesr-animevideov3-x2.bin"));
    form.set("id", "api-anime-x2");
    form.set("title", "API anime x2");
    form.set("content", "art");
    form.set("degradation", "real-world");
    const { status, body } = await post(form);
    assert.equal(status, 201, JSON.stringify(body));
    assert.equal(body.id, "api-anime-x2");
    assert.equal(body.scale, 2);
    assert.deepEqual(body.valueRange, [0, 1]);
    assert.equal(body.content, "art");
    assert.equal(body.degradation, "real-world");
    assert.equal((body.imported as { format: string }).format, "ncnn");
    assert.deepEqual(body.source, { upload: "realesr-animevideov3-x2.param + realesr-animevideov3-x2.bin" });

    const listed = await get("?kind=uploaded&content=art&degradation=real-world&scale=2");
    assert.equal(listed.status, 200);
    assert.deepEqual((listed.body as { id: string }[]).map((model) => model.id), ["api-anime-x2"]);
    assert.deepEqual(await get("?kind=uploaded&content=photo").then((answer) => answer.body), []);
    const builtIn = (await get("?kind=built-in&q=slim")).body as { id: string; copyleft: boolean; weights: unknown }[];
    assert.deepEqual(builtIn.map((model) => model.id), ["esrgan-slim-x2", "esrgan-slim-x4"]);
    assert.ok(builtIn.every((model) => model.copyleft === false && model.weights));

    // Two `file` fields holding a .param and a .bin work too (curl -F file=@a.param -F file=@a.bin).
    const asFiles = new FormData();
    asFiles.append("file", await file("realesr-animevideov3-x2.bin"));
    asFiles.append("file", await file("realesr-animevideov3-x2.param"));
    asFiles.set("id", "api-anime-files");
    const second = await post(asFiles);
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.equal(second.body.scale, 2);

    for (const id of ["api-anime-x2", "api-anime-files"]) {
      const response = await DELETE(new Request(`http://127.0.0.1/api/v1/models/${id}`, { method: "DELETE", headers: auth }), { params: Promise.resolve({ id }) });
      assert.equal(response.status, 200);
    }
    assert.deepEqual((await get("?kind=uploaded")).body, []);
  });

  it("answers bad pairs and bad fields with a 400 naming the file or the field; no key is a 401", async () => {
    const cases: [FormData, RegExp][] = [];
    const pair = async (param: File, bin: File, fields: Record<string, string> = {}) => {
      const form = new FormData();
      form.set("param", param);
      form.set("bin", bin);
      form.set("id", "refused"); // not the file name's: realesr-animevideov3-x2 is also a built-in model's id
      for (const [key, value] of Object.entries(fields)) form.set(key, value);
      return form;
    };
    const bin = await file("realesr-animevideov3-x2.bin");
    const param = await file("realesr-animevideov3-x2.param");
    cases.push([await pair(param, new File([(await bin.arrayBuffer()).slice(0, 400_000)], "cut.bin")), /"cut\.bin": /]);
    cases.push([await pair(param, await file("upconv_7-scale2.0x_model.bin")), /"upconv_7-scale2\.0x_model\.bin": /]);
    cases.push([await pair(new File(["not a network"], "junk.param"), bin), /"junk\.param"/]);
    const onlyParam = new FormData();
    onlyParam.set("param", param);
    cases.push([onlyParam, /only the \.param \("realesr-animevideov3-x2\.param"\) was sent: an ncnn model needs its \.bin weights too/]);
    const onlyBin = new FormData();
    onlyBin.set("bin", bin);
    cases.push([onlyBin, /only the \.bin \("realesr-animevideov3-x2\.bin"\) was sent: an ncnn model needs its \.param too/]);
    const loneFile = new FormData();
    loneFile.set("file", param);
    cases.push([loneFile, /is not a \.onnx file, and an ncnn model needs its \.bin weights too/]);
    cases.push([new FormData(), /the upload has no file/]);
    for (const [form, pattern] of cases) {
      const { status, body } = await post(form);
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(body.error.code, "BAD_REQUEST");
      assert.match(body.error.message, pattern);
    }

    const badField = await post(await pair(param, bin, { content: "anime", degradation: "clean" }));
    assert.equal(badField.status, 400);
    assert.deepEqual(badField.body.error.issues?.map((issue) => issue.path).sort(), ["degradation", "content"].sort());
    assert.match(badField.body.error.message, /content: .*"photo"\|"art"\|"unknown"/);

    const badFilter = await get("?content=anime");
    assert.equal(badFilter.status, 400);
    assert.match((badFilter.body as ErrorBody).error.message, /content/);

    const anonymous = await post(await pair(param, bin), {});
    assert.equal(anonymous.status, 401);
    assert.deepEqual((await get("?kind=uploaded")).body, []);
  });
});
