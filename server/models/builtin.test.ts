import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { REPO_ROOT } from "../platform/paths";
import { installedPackage, TFJS_BUILTIN_MODELS } from "./builtin";

it("finds each model package's folder, version and licence in node_modules", () => {
  for (const name of new Set(TFJS_BUILTIN_MODELS.map((model) => model.package))) {
    const pkg = installedPackage(name);
    assert.equal(pkg.dir, path.join(REPO_ROOT, "node_modules", name));
    assert.equal(pkg.version, JSON.parse(readFileSync(path.join(pkg.dir, "package.json"), "utf8")).version);
    assert.match(pkg.license, /^MIT \(Copyright/);
  }
});

it("names a package that is not installed", () => {
  assert.throws(() => installedPackage("@upscalerjs/no-such-model"), /npm package @upscalerjs\/no-such-model is not installed: run `npm install`/);
});
