/**
 * API keys: the {@link KeyStore} port with an in-memory and a SQLite adapter (its own table, in its
 * own file under the data directory); the PostgreSQL adapter, shared by gateway replicas, is in
 * keys-postgres.ts. All three pass one contract (test/integration/gateway-stores.test.ts).
 *
 * A key is shown once at creation and stored only as its SHA-256 digest: keys carry 256 bits of
 * randomness, so a fast hash is enough (a slow password hash protects low-entropy secrets only).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { UserError } from '../core/errors.ts';

export const ROLES = ['user', 'approver', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A stored key: never the key itself, only its digest and a short prefix for display. */
export interface KeyRecord {
  id: string;
  name: string;
  /** The principal the key acts as: every run it submits carries this `actorId`. */
  actorId: string;
  role: Role;
  plan: string;
  /** The first characters of the key, for people to recognise it in a list. */
  prefix: string;
  hash: string;
  createdAt: number;
  revokedAt: number | null;
}

/** Where keys live. Implementations: memory (tests), SQLite (default), PostgreSQL (keys-postgres.ts). */
export interface KeyStore {
  /** Store a new key; a `UserError` (field `id`) when the id is taken. */
  insert(record: KeyRecord): Promise<void>;
  /** The key whose digest is `hash`, revoked or not. */
  findByHash(hash: string): Promise<KeyRecord | null>;
  get(id: string): Promise<KeyRecord | null>;
  /** Keys oldest first (ties by id). */
  list(): Promise<KeyRecord[]>;
  /** Mark revoked; false when no such key (revoking twice keeps the first time). */
  revoke(id: string, at: number): Promise<boolean>;
  close(): Promise<void>;
}

/** What `keys create` returns: the only time the key is visible. */
export interface IssuedKey {
  id: string;
  key: string;
  role: Role;
  name: string;
  actorId: string;
  plan: string;
}

const KEY_PREFIX = 'sbk_';

/** The error every adapter raises for a taken key id. */
export const duplicateKey = (id: string): UserError => new UserError(`key ${id} exists`, 'id');

/**
 * Text a key carries, as every store can hold it: no NUL (PostgreSQL text cannot hold it and SQLite
 * cuts the string there), and well-formed Unicode (UTF-8 storage turns a lone surrogate into U+FFFD,
 * so it is replaced here, before the key is issued, and every adapter returns what was issued).
 */
function keyText(value: string, field: string): string {
  if (value.includes('\u0000')) throw new UserError(`${field} must not contain NUL`, field);
  return value.toWellFormed();
}

/** SHA-256 hex digest of a key. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Constant-time comparison of two hex digests (a found row is re-checked, not trusted blindly). */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Create a key and store its digest.
 * @example
 * const { key } = await issueKey(store, { name: 'alice', role: 'user' });
 */
export async function issueKey(
  store: KeyStore,
  options: { name: string; role: Role; plan?: string; actorId?: string; now?: number },
): Promise<IssuedKey> {
  const name = keyText(options.name.trim(), 'name');
  if (!name) throw new UserError('name is required', 'name');
  // Characters are code points: an emoji counts once, as people count it.
  if ([...name].length > 100) throw new UserError('name is longer than 100 characters', 'name');
  if (!(ROLES as readonly string[]).includes(options.role))
    throw new UserError(`role must be one of ${ROLES.join(', ')}`, 'role');
  const actorId = options.actorId === undefined ? name : keyText(options.actorId, 'actorId');
  const plan = options.plan === undefined ? 'default' : keyText(options.plan, 'plan');
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const id = `key_${randomBytes(8).toString('hex')}`;
  const record: KeyRecord = {
    id,
    name,
    actorId,
    role: options.role,
    plan,
    prefix: key.slice(0, KEY_PREFIX.length + 6),
    hash: hashKey(key),
    createdAt: options.now ?? Date.now(),
    revokedAt: null,
  };
  await store.insert(record);
  return { id, key, role: record.role, name, actorId: record.actorId, plan: record.plan };
}

/** Find a key by id, or by name when exactly one live key has it. */
export async function resolveKeyRef(store: KeyStore, ref: string): Promise<KeyRecord | null> {
  const byId = await store.get(ref);
  if (byId) return byId;
  const named = (await store.list()).filter((k) => k.name === ref && k.revokedAt === null);
  if (named.length > 1)
    throw new UserError(`${named.length} live keys are named "${ref}": give the key id`, 'key');
  return named[0] ?? null;
}

/** Keys in memory (tests, ephemeral gateways). */
export function createMemoryKeyStore(): KeyStore {
  const byId = new Map<string, KeyRecord>();
  return {
    async insert(record) {
      if (byId.has(record.id)) throw duplicateKey(record.id);
      byId.set(record.id, { ...record });
    },
    async findByHash(hash) {
      for (const k of byId.values()) if (k.hash === hash) return { ...k };
      return null;
    },
    async get(id) {
      const k = byId.get(id);
      return k ? { ...k } : null;
    },
    async list() {
      return [...byId.values()]
        .map((k) => ({ ...k }))
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async revoke(id, at) {
      const k = byId.get(id);
      if (!k) return false;
      k.revokedAt ??= at;
      return true;
    },
    async close() {},
  };
}

/** A row of `api_keys`, as the SQLite and PostgreSQL adapters read it. */
export interface KeyRow {
  id: string;
  name: string;
  actor_id: string;
  role: string;
  plan: string;
  prefix: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

export const fromRow = (r: KeyRow): KeyRecord => ({
  id: r.id,
  name: r.name,
  actorId: r.actor_id,
  role: r.role as Role,
  plan: r.plan,
  prefix: r.prefix,
  hash: r.hash,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;

/**
 * Keys in a SQLite file (default `<dataDir>/gateway.db`, table `api_keys`). WAL mode lets the CLI
 * revoke a key while a gateway process reads the same file.
 */
export function createSqliteKeyStore(options: { path: string }): KeyStore {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    role TEXT NOT NULL,
    plan TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  )`);
  const insert = db.prepare(
    'INSERT INTO api_keys (id, name, actor_id, role, plan, prefix, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const byHash = db.prepare('SELECT * FROM api_keys WHERE hash = ?');
  const byId = db.prepare('SELECT * FROM api_keys WHERE id = ?');
  const all = db.prepare('SELECT * FROM api_keys ORDER BY created_at, id');
  const revoke = db.prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?');
  return {
    async insert(r) {
      try {
        insert.run(r.id, r.name, r.actorId, r.role, r.plan, r.prefix, r.hash, r.createdAt, r.revokedAt);
      } catch (error) {
        if ((error as { errcode?: unknown }).errcode === SQLITE_CONSTRAINT_PRIMARYKEY)
          throw duplicateKey(r.id);
        throw error;
      }
    },
    async findByHash(hash) {
      const row = byHash.get(hash) as KeyRow | undefined;
      return row ? fromRow(row) : null;
    },
    async get(id) {
      const row = byId.get(id) as KeyRow | undefined;
      return row ? fromRow(row) : null;
    },
    async list() {
      return (all.all() as unknown as KeyRow[]).map(fromRow);
    },
    async revoke(id, at) {
      return Number(revoke.run(at, id).changes) > 0;
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
