// Where artifact bytes live, behind one small interface: inputs, run outputs and (for tile fan-out)
// intermediate tiles, each under a '/'-separated key such as `artifacts/<sha256>.png`. Two implementations,
// chosen by the environment:
// - the local folder (default): the data folder ($TUDSR_DATA_DIR, else data/); on several machines, the same
//   shared mount (NFS, SMB...) as TUDSR_DATA_DIR on each;
// - S3-compatible object storage, when TUDSR_S3_BUCKET is set: TUDSR_S3_ENDPOINT (e.g. http://minio:9000; unset
//   = AWS), TUDSR_S3_REGION (default us-east-1), TUDSR_S3_ACCESS_KEY_ID / TUDSR_S3_SECRET_ACCESS_KEY (else the
//   AWS SDK's usual credential chain), TUDSR_S3_FORCE_PATH_STYLE (default: on when an endpoint is set),
//   TUDSR_S3_PREFIX (prepended to every key, default none).
// Job payloads carry keys only, never bytes.
import { access, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../platform/files";
import { dataDir } from "../platform/paths";

export interface ArtifactStore {
  /** "local" or "s3", and where (for logs and the workers page). */
  readonly description: string;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes under `key`; ArtifactMissingError when there are none. */
  get(key: string): Promise<Buffer>;
  has(key: string): Promise<boolean>;
  /** Removes every key starting with `prefix` (a folder-like prefix ending in "/"). */
  deletePrefix(prefix: string): Promise<void>;
}

export class ArtifactMissingError extends Error {
  constructor(readonly key: string) {
    super(`artifact "${key}" is missing from the artifact store`);
    this.name = "ArtifactMissingError";
  }
}

const KEY = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/** Keys are relative, '/'-separated, without `.` or `..` segments. */
export function checkKey(key: string): string {
  if (!KEY.test(key) || key.split("/").some((part) => part === "." || part === "..")) throw new Error(`bad artifact key "${key}"`);
  return key;
}

/** The local folder: key `a/b.png` is `<root>/a/b.png`. */
export class LocalArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  get description(): string {
    return `local folder ${this.root}`;
  }

  /** Absolute path of a key; refuses one that would leave the root. */
  file(key: string): string {
    checkKey(key);
    const file = path.resolve(this.root, ...key.split("/"));
    if (!file.startsWith(this.root + path.sep)) throw new Error(`artifact path "${key}" is outside the data folder`);
    return file;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.file(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new ArtifactMissingError(key);
      throw error;
    }
  }

  async has(key: string): Promise<boolean> {
    return access(this.file(key)).then(
      () => true,
      () => false,
    );
  }

  async deletePrefix(prefix: string): Promise<void> {
    const folder = this.file(prefix.replace(/\/+$/, ""));
    await rm(folder, { recursive: true, force: true });
  }

  /** Keys under a prefix (tests). */
  async list(prefix: string): Promise<string[]> {
    const folder = this.file(prefix.replace(/\/+$/, ""));
    const found: string[] = [];
    const walk = async (dir: string, key: string) => {
      const entries = await readdir(dir).catch(() => [] as string[]);
      for (const entry of entries) {
        const child = path.join(dir, entry);
        if ((await stat(child)).isDirectory()) await walk(child, `${key}/${entry}`);
        else found.push(`${key}/${entry}`);
      }
    };
    await walk(folder, prefix.replace(/\/+$/, ""));
    return found.sort();
  }
}

export interface S3Settings {
  bucket: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  prefix: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** S3 settings from the environment, or undefined when TUDSR_S3_BUCKET is not set. */
export function s3SettingsFromEnv(env: Record<string, string | undefined> = process.env): S3Settings | undefined {
  const bucket = env.TUDSR_S3_BUCKET;
  if (!bucket) return undefined;
  const endpoint = env.TUDSR_S3_ENDPOINT || undefined;
  const pathStyle = env.TUDSR_S3_FORCE_PATH_STYLE;
  const accessKeyId = env.TUDSR_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.TUDSR_S3_SECRET_ACCESS_KEY;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new Error("set both TUDSR_S3_ACCESS_KEY_ID and TUDSR_S3_SECRET_ACCESS_KEY, or neither (the AWS SDK's credential chain)");
  }
  return {
    bucket,
    endpoint,
    region: env.TUDSR_S3_REGION || "us-east-1",
    forcePathStyle: pathStyle ? /^(1|true|yes|on)$/i.test(pathStyle) : endpoint !== undefined,
    prefix: (env.TUDSR_S3_PREFIX ?? "").replace(/^\/+/, ""),
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
  };
}

type S3Module = typeof import("@aws-sdk/client-s3");

/** S3-compatible object storage (@aws-sdk/client-s3, loaded only when configured). */
export class S3ArtifactStore implements ArtifactStore {
  private client?: Promise<{ s3: S3Module; client: InstanceType<S3Module["S3Client"]> }>;

  constructor(readonly settings: S3Settings) {}

  get description(): string {
    return `S3 bucket ${this.settings.bucket}${this.settings.endpoint ? ` at ${this.settings.endpoint}` : ""}`;
  }

  private connect() {
    // The SDK is pinned to a version that supports Node 20; its notice about later versions is not for users.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    this.client ??= import("@aws-sdk/client-s3").then((s3) => ({
      s3,
      client: new s3.S3Client({
        endpoint: this.settings.endpoint,
        region: this.settings.region,
        forcePathStyle: this.settings.forcePathStyle,
        credentials: this.settings.credentials,
        // Plain requests: S3-compatible servers do not all know the SDK's default CRC32 trailers.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      }),
    }));
    return this.client;
  }

  private objectKey(key: string): string {
    return this.settings.prefix + checkKey(key);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const { s3, client } = await this.connect();
    await client.send(new s3.PutObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key), Body: bytes, ContentLength: bytes.byteLength }));
  }

  async get(key: string): Promise<Buffer> {
    const { s3, client } = await this.connect();
    try {
      const answer = await client.send(new s3.GetObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }));
      return Buffer.from(await answer.Body!.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) throw new ArtifactMissingError(key);
      throw error;
    }
  }

  async has(key: string): Promise<boolean> {
    const { s3, client } = await this.connect();
    try {
      await client.send(new s3.HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const { s3, client } = await this.connect();
    const full = this.settings.prefix + checkKey(prefix.replace(/\/+$/, "")) + "/";
    let token: string | undefined;
    do {
      const page = await client.send(new s3.ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: full, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key) await client.send(new s3.DeleteObjectCommand({ Bucket: this.settings.bucket, Key: object.Key }));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Keys under a prefix, without the store's own prefix (tests). */
  async list(prefix: string): Promise<string[]> {
    const { s3, client } = await this.connect();
    const full = this.settings.prefix + prefix;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new s3.ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: full, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(this.settings.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  close(): void {
    void this.client?.then(({ client }) => client.destroy());
    this.client = undefined;
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

// One store per configuration (tests switch TUDSR_DATA_DIR and the S3 settings between suites).
let cached: { config: string; store: ArtifactStore } | undefined;

/** The configured store: S3 when TUDSR_S3_BUCKET is set, else the local data folder. */
export function artifactStore(): ArtifactStore {
  const s3 = s3SettingsFromEnv();
  const config = JSON.stringify(s3 ?? { local: dataDir() });
  if (cached?.config !== config) {
    if (cached?.store instanceof S3ArtifactStore) cached.store.close();
    cached = { config, store: s3 ? new S3ArtifactStore(s3) : new LocalArtifactStore(dataDir()) };
  }
  return cached.store;
}
