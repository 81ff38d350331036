// API keys for scripts. The secret is shown once, at creation; the table keeps only its SHA-256 and a short
// public prefix for lists.
//
// Why SHA-256 and not bcrypt/scrypt: those slow hashes protect low-entropy secrets (passwords) against
// guessing. Our secrets are 256 random bits, so guessing is hopeless at any hash speed, and a fast, unsalted
// hash lets the key be found by its hash (a unique index) in one lookup, costing microseconds per request
// instead of ~100 ms of deliberate slowness on every API call.
import { createHash, randomBytes } from "node:crypto";
import { NotFoundError, prismaCode } from "../platform/errors";
import { getDb } from "./client";

export interface ApiKeySummary {
  id: string;
  name: string;
  /** The public start of the key, e.g. `tudsr_3f9a1c2b`. */
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface CreatedApiKey extends ApiKeySummary {
  /** The whole key; not stored and never shown again. */
  secret: string;
}

export interface VerifiedKey {
  id: string;
  name: string;
  prefix: string;
}

const KEY_PATTERN = /^(tudsr_[0-9a-f]{8})_[A-Za-z0-9_-]{43}$/;

/** lastUsedAt is written at most this often per key, so polling scripts do not turn every read into a write. */
const LAST_USED_RESOLUTION_MS = 30_000;

const summarySelect = { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true };

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export async function createApiKey(name: string): Promise<CreatedApiKey> {
  const db = await getDb();
  for (let attempt = 1; ; attempt++) {
    const prefix = `tudsr_${randomBytes(4).toString("hex")}`;
    const secret = `${prefix}_${randomBytes(32).toString("base64url")}`;
    try {
      const row = await db.apiKey.create({
        data: { name, prefix, secretHash: hashSecret(secret) },
        select: summarySelect,
      });
      return { ...row, secret };
    } catch (error) {
      // Two keys drew the same 32-bit prefix: draw again.
      if (prismaCode(error) !== "P2002" || attempt >= 5) throw error;
    }
  }
}

/** Newest first, revoked ones included (marked). */
export async function listApiKeys(): Promise<ApiKeySummary[]> {
  const db = await getDb();
  return db.apiKey.findMany({ orderBy: [{ createdAt: "desc" }, { id: "asc" }], select: summarySelect });
}

/** Revokes by id or by prefix; revoking a revoked key keeps its first revocation time. */
export async function revokeApiKey(idOrPrefix: string): Promise<ApiKeySummary> {
  const db = await getDb();
  const row = await db.apiKey.findFirst({
    where: { OR: [{ id: idOrPrefix }, { prefix: idOrPrefix }] },
    select: summarySelect,
  });
  if (!row) throw new NotFoundError("API key", idOrPrefix);
  if (row.revokedAt) return row;
  return db.apiKey.update({ where: { id: row.id }, data: { revokedAt: new Date() }, select: summarySelect });
}

/**
 * The key's owner when `secret` is a live key, else undefined. Only a valid key causes a write
 * (lastUsedAt): a missing, malformed, unknown or revoked key touches nothing.
 */
export async function verifyApiKey(secret: string): Promise<VerifiedKey | undefined> {
  const match = KEY_PATTERN.exec(secret);
  if (!match) return undefined;
  const db = await getDb();
  // The lookup is by hash, so the secret is never compared byte by byte (no timing leak of its content).
  const row = await db.apiKey.findUnique({
    where: { secretHash: hashSecret(secret) },
    select: { id: true, name: true, prefix: true, revokedAt: true, lastUsedAt: true },
  });
  if (!row || row.revokedAt || row.prefix !== match[1]) return undefined;
  const now = new Date();
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    await db.apiKey.updateMany({ where: { id: row.id, revokedAt: null }, data: { lastUsedAt: now } });
  }
  return { id: row.id, name: row.name, prefix: row.prefix };
}
