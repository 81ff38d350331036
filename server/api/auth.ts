// Who is calling: the studio's own browser UI (a session cookie) or a script (an API key). See the README's
// "HTTP API" section for the threat model.
//
// Browser: the studio keeps a random secret in `$TUDSR_DATA_DIR/browser-secret` (mode 0600). `npm start`
// prints a sign-in link carrying it (`npx tudsr ui-link` prints it again); opening the link sets an
// HttpOnly, SameSite=Strict cookie holding an HMAC of the secret. Scripts use `Authorization: Bearer <key>`.
// Neither can be had by asking the server: a caller needs the data folder (which can mint keys anyway) or a
// key someone gave it.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { type VerifiedKey, verifyApiKey } from "../db/keys";
import { dataDir } from "../platform/paths";

export const SESSION_COOKIE = "tudsr_session";
const SESSION_MAX_AGE_S = 30 * 24 * 3600;
const SECRET_FILE = "browser-secret";

export type Caller =
  | { kind: "browser" }
  | { kind: "key"; key: VerifiedKey }
  /** In-process callers (the CLI, tests) that already hold the data folder. */
  | { kind: "local" };

export type Authentication = { caller: Caller } | { caller: null; problem: string };

const cache = globalThis as typeof globalThis & { __tudsrBrowserSecret?: { dir: string; secret: Promise<string> } };

/** The browser secret of this data folder, created on first use. */
export function browserSecret(): Promise<string> {
  const dir = dataDir();
  if (cache.__tudsrBrowserSecret?.dir !== dir) {
    const secret = loadOrCreateSecret(dir);
    cache.__tudsrBrowserSecret = { dir, secret };
    secret.catch(() => (cache.__tudsrBrowserSecret = undefined));
  }
  return cache.__tudsrBrowserSecret!.secret;
}

async function loadOrCreateSecret(dir: string): Promise<string> {
  const file = path.join(dir, SECRET_FILE);
  const existing = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (existing?.trim()) return existing.trim();
  await mkdir(dir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  try {
    // "wx": when two processes start at once, one writes and the other reads the winner's secret.
    await writeFile(file, `${secret}\n`, { flag: "wx", mode: 0o600 });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return (await readFile(file, "utf8")).trim();
  }
}

function sessionValue(secret: string): string {
  return createHmac("sha256", secret).update("tudsr browser session v1").digest("base64url");
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The link that signs a browser in: `<origin>/api/session?token=...`. */
export async function signInLink(origin: string): Promise<string> {
  return `${origin.replace(/\/$/, "")}/api/session?token=${await browserSecret()}`;
}

/** The Set-Cookie value for a correct sign-in token, else undefined. */
export async function sessionCookieFor(token: string): Promise<string | undefined> {
  const secret = await browserSecret();
  if (!sameText(token, secret)) return undefined;
  return `${SESSION_COOKIE}=${sessionValue(secret)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MAX_AGE_S}`;
}

export const clearSessionCookie = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

function cookie(headers: Headers, name: string): string | undefined {
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const index = part.indexOf("=");
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/** A cookie-carrying request must also come from a page of this origin (defence in depth against CSRF). */
function crossSiteProblem(headers: Headers): string | undefined {
  const site = headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return `cross-site request (Sec-Fetch-Site: ${site})`;
  const origin = headers.get("origin");
  const host = headers.get("host");
  if (origin && origin !== "null" && host) {
    try {
      if (new URL(origin).host !== host) return `cross-origin request from ${origin}`;
    } catch {
      return `bad Origin header`;
    }
  }
  return undefined;
}

/**
 * Authenticates a request from its headers. An Authorization header always decides by itself (a bad key is
 * refused even when a session cookie is present); without one, a valid session cookie means the browser UI.
 */
export async function authenticate(headers: Headers): Promise<Authentication> {
  const authorization = headers.get("authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return { caller: null, problem: "the Authorization header must be `Bearer <key>`" };
    const key = await verifyApiKey(match[1]);
    return key ? { caller: { kind: "key", key } } : { caller: null, problem: "invalid or revoked API key" };
  }
  const session = cookie(headers, SESSION_COOKIE);
  if (session !== undefined) {
    if (!sameText(session, sessionValue(await browserSecret()))) {
      return { caller: null, problem: "the browser session is no longer valid: open the sign-in link again" };
    }
    const problem = crossSiteProblem(headers);
    return problem ? { caller: null, problem } : { caller: { kind: "browser" } };
  }
  return { caller: null, problem: "missing API key: send `Authorization: Bearer <key>` (create one with `npx tudsr keys create <name>`)" };
}
