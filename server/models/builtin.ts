// The super-resolution models that `npm run setup` converts from the UpscalerJS npm packages.
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../paths";
import type { ModelManifestEntry } from "./manifest";

export interface BuiltinModel {
  id: string;
  title: string;
  scale: number;
  /** Input and output range the model is run with in the studio. */
  valueRange: [number, number];
  speedClass: ModelManifestEntry["speedClass"];
  architecture: string;
  content: ModelManifestEntry["content"];
  degradation: ModelManifestEntry["degradation"];
  /** Where the weights come from and their licence (the package's own licence is read from the package). */
  weights: ModelManifestEntry["weights"];
  package: string;
  /** model.json inside the package. */
  modelPath: string;
  /** The package's own example, made with UpscalerJS: paths inside the package and the range it was run at. */
  sample: { input: string; result: string; valueRange: [number, number] };
}

const FIXTURE = "assets/fixture.png";

/** UpscalerJS's own ESRGAN-style models, trained by its author on clean bicubic downscales (DIV2K). */
const UPSCALERJS_ESRGAN = {
  architecture: "ESRGAN (UpscalerJS)",
  content: "photo",
  degradation: "bicubic",
  weights: { origin: "trained by UpscalerJS (thekevinscott/UpscalerJS) on DIV2K", license: "MIT" },
} as const;

function thick(scale: number): BuiltinModel {
  return {
    id: `esrgan-thick-x${scale}`,
    title: `ESRGAN thick x${scale}`,
    scale,
    valueRange: [0, 1],
    speedClass: "quality",
    ...UPSCALERJS_ESRGAN,
    package: "@upscalerjs/esrgan-thick",
    modelPath: `models/x${scale}/model.json`,
    sample: { input: FIXTURE, result: `assets/samples/${scale}x/result.png`, valueRange: [0, 1] },
  };
}

function slim(scale: number): BuiltinModel {
  return {
    id: `esrgan-slim-x${scale}`,
    title: `ESRGAN slim x${scale}`,
    scale,
    valueRange: [0, 255],
    speedClass: "fast",
    ...UPSCALERJS_ESRGAN,
    package: "@upscalerjs/esrgan-slim",
    modelPath: `models/x${scale}/model.json`,
    sample: { input: FIXTURE, result: `assets/samples/${scale}x/result.png`, valueRange: [0, 255] },
  };
}

export const BUILTIN_MODELS: readonly BuiltinModel[] = [
  thick(2),
  thick(3),
  thick(4),
  thick(8),
  slim(2),
  slim(4),
  {
    id: "psnr-small-x2",
    title: "ESRGAN PSNR small x2",
    scale: 2,
    // UpscalerJS declares 0..255 (and made its sample that way), but this is an idealo ISR RDN trained on
    // 0..1 inputs: 0..1 gives sharper results on real photos (see convert.test.ts).
    valueRange: [0, 1],
    speedClass: "balanced",
    architecture: "RDN (idealo image-super-resolution)",
    content: "photo",
    degradation: "bicubic",
    weights: { origin: "idealo/image-super-resolution psnr-small, as packaged by UpscalerJS", license: "Apache-2.0 (idealo), MIT (UpscalerJS)" },
    package: "@upscalerjs/esrgan-legacy",
    modelPath: "models/psnr-small/model.json",
    sample: { input: FIXTURE, result: "assets/samples/psnr-small/result.png", valueRange: [0, 255] },
  },
];

export interface InstalledPackage {
  dir: string;
  version: string;
  license: string; // e.g. "MIT (Copyright (c) 2022 Kevin Scott)"
}

/**
 * Finds an installed npm package's folder, version and licence: `node_modules/<name>` in the repository or a
 * folder above it, as Node looks. Not require.resolve: Next's bundler rewrites it (the studio's model upload
 * failed with "not installed"), and the package's exports map hides package.json anyway.
 */
export function installedPackage(name: string): InstalledPackage {
  for (let root = REPO_ROOT; ; root = path.dirname(root)) {
    const dir = path.join(root, "node_modules", name);
    let pkg: { name?: string; version?: string; license?: string } | undefined;
    try {
      pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
    } catch {
      pkg = undefined;
    }
    if (pkg?.name === name) {
      if (!pkg.version) throw new Error(`${name}: package.json has no version`);
      return { dir, version: pkg.version, license: describeLicense(dir, pkg.license) };
    }
    if (root === path.dirname(root)) throw new Error(`npm package ${name} is not installed: run \`npm install\``);
  }
}

function describeLicense(dir: string, spdx: string | undefined): string {
  let copyright: string | undefined;
  try {
    copyright = readFileSync(path.join(dir, "LICENSE"), "utf8")
      .split("\n")
      .find((line) => line.trim().startsWith("Copyright"))
      ?.trim();
  } catch {
    // No LICENSE file: the package.json licence field alone.
  }
  const license = spdx ?? "UNLICENSED";
  return copyright ? `${license} (${copyright})` : license;
}
