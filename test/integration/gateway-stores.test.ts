/**
 * The gateway's stores: one KeyStore contract on memory, SQLite and PostgreSQL; keys and plan
 * counters shared by two PostgreSQL-backed "replicas" on one schema. PostgreSQL is required here:
 * when no server answers, these tests fail rather than skip.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { UserError } from '../../src/core/errors.ts';
import { Authenticator } from '../../src/gateway/auth.ts';
import { createPostgresKeyStore } from '../../src/gateway/keys-postgres.ts';
import {
  createMemoryKeyStore,
  createSqliteKeyStore,
  hashKey,
  issueKey,
  type KeyRecord,
  type KeyStore,
} from '../../src/gateway/keys.ts';
import {
  DEFAULT_PLANS,
  UsageMeter,
  type Admission,
  type Plan,
  type UsageCounter,
} from '../../src/gateway/plans.ts';
import { createPostgresUsage } from '../../src/gateway/usage-postgres.ts';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { POSTGRES_URL, requirePostgres } from '../helpers.ts';

const postgres = await requirePostgres();

const DAY_MS = 86_400_000;

/** A schema of its own per test, dropped at the end (the PostgreSQL suites run only with a server). */
async function pgSchema(prefix: string): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  return { schema, drop: () => dropPostgresSchemas(POSTGRES_URL, [schema]) };
}

interface Opened {
  store: KeyStore;
  cleanup: () => Promise<void>;
}

const ADAPTERS: Record<string, () => Promise<Opened>> = {
  memory: async () => ({ store: createMemoryKeyStore(), cleanup: async () => {} }),
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-keys-'));
    const store = createSqliteKeyStore({ path: join(dir, 'gateway.db') });
    return {
      store,
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  postgres: async () => {
    const { schema, drop } = await pgSchema('sb_keys');
    const store = createPostgresKeyStore({ url: POSTGRES_URL, schema });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await drop();
      },
    };
  },
};

const record = (id: string, createdAt: number, extra: Partial<KeyRecord> = {}): KeyRecord => ({
  id,
  name: `name of ${id}`,
  actorId: `actor-${id}`,
  role: 'user',
  plan: 'default',
  prefix: 'sbk_abcdef',
  hash: hashKey(`secret-${id}`),
  createdAt,
  revokedAt: null,
  ...extra,
});

async function withStore(open: () => Promise<Opened>, body: (store: KeyStore) => Promise<void>) {
  const { store, cleanup } = await open();
  try {
    await body(store);
  } finally {
    await cleanup();
  }
}

for (const [adapter, open] of Object.entries(ADAPTERS)) {
  describe(`KeyStore contract: ${adapter}`, { skip: adapter === 'postgres' && !postgres }, () => {
    it('finds an inserted key by digest and by id, and nothing for unknown ones', () =>
      withStore(open, async (store) => {
        const k = record('key_a', 1_000, { role: 'admin', plan: 'pro' });
        await store.insert(k);
        assert.deepEqual(await store.findByHash(k.hash), k);
        assert.deepEqual(await store.get('key_a'), k);
        assert.equal(await store.findByHash(hashKey('nope')), null);
        assert.equal(await store.get('key_nope'), null);
      }));

    it('lists keys oldest first, ties by id', () =>
      withStore(open, async (store) => {
        await store.insert(record('key_c', 2_000));
        await store.insert(record('key_b', 1_000));
        await store.insert(record('key_a', 2_000));
        assert.deepEqual(
          (await store.list()).map((k) => k.id),
          ['key_b', 'key_a', 'key_c'],
        );
      }));

    it('revoking twice keeps the first time; revoking an unknown key is false', () =>
      withStore(open, async (store) => {
        await store.insert(record('key_a', 1_000));
        assert.equal(await store.revoke('key_a', 5_000), true);
        assert.equal(await store.revoke('key_a', 9_000), true);
        assert.equal((await store.get('key_a'))?.revokedAt, 5_000);
        assert.equal((await store.findByHash(hashKey('secret-key_a')))?.revokedAt, 5_000);
        assert.equal(await store.revoke('key_nope', 5_000), false);
      }));

    it('rejects a duplicate id with a UserError on field id, keeping the first key', () =>
      withStore(open, async (store) => {
        await store.insert(record('key_a', 1_000));
        await assert.rejects(
          store.insert(record('key_a', 2_000, { hash: hashKey('other') })),
          (e: unknown) => e instanceof UserError && e.field === 'id',
        );
        assert.equal((await store.get('key_a'))?.createdAt, 1_000);
        assert.equal((await store.list()).length, 1);
      }));

    it('rejects a name containing NUL before anything is stored', () =>
      withStore(open, async (store) => {
        await assert.rejects(
          issueKey(store, { name: 'a\u0000b', role: 'user' }),
          (e: unknown) => e instanceof UserError && e.message === 'name must not contain NUL',
        );
        assert.deepEqual(await store.list(), []);
      }));

    it('returns exactly the name it issued: lone surrogates, a 100-emoji name', () =>
      withStore(open, async (store) => {
        const lone = await issueKey(store, { name: 'a\ud800b\udfffc', role: 'user' });
        // Made well-formed at issue (storage is UTF-8), so every adapter returns what was issued.
        assert.equal(lone.name, 'a\ufffdb\ufffdc');
        const emoji = '🦊'.repeat(100);
        const fox = await issueKey(store, { name: emoji, role: 'user' });
        assert.equal(fox.name, emoji);
        for (const issued of [lone, fox]) {
          const got = await store.findByHash(hashKey(issued.key));
          assert.equal(got?.name, issued.name);
          assert.equal(got?.actorId, issued.actorId);
        }
        await assert.rejects(
          issueKey(store, { name: '🦊'.repeat(101), role: 'user' }),
          (e: unknown) => e instanceof UserError && e.field === 'name',
        );
      }));
  });
}

describe('PostgreSQL keys shared by two gateway processes', { skip: !postgres }, () => {
  it('a key issued or revoked through one store is seen at once through the other', async () => {
    const { schema, drop } = await pgSchema('sb_keys');
    const a = createPostgresKeyStore({ url: POSTGRES_URL, schema, applicationName: 'sb-test-a' });
    const b = createPostgresKeyStore({ url: POSTGRES_URL, schema, applicationName: 'sb-test-b' });
    try {
      // Both create the table at once on first use (the advisory lock serializes the DDL).
      assert.deepEqual(await Promise.all([a.list(), b.list()]), [[], []]);
      const issued = await issueKey(a, { name: 'alice', role: 'operator', plan: 'pro', now: 1_000 });
      const seen = await b.findByHash(hashKey(issued.key));
      assert.equal(seen?.id, issued.id);
      assert.equal(seen?.revokedAt, null);
      assert.equal(await a.revoke(issued.id, 2_000), true);
      assert.equal((await b.get(issued.id))?.revokedAt, 2_000);
      assert.equal((await b.findByHash(hashKey(issued.key)))?.revokedAt, 2_000);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await drop();
    }
  });

  it("another process's revocation reaches this process's Authenticator once its cache expires", async () => {
    const { schema, drop } = await pgSchema('sb_keys');
    const a = createPostgresKeyStore({ url: POSTGRES_URL, schema });
    const b = createPostgresKeyStore({ url: POSTGRES_URL, schema });
    let clock = 1_000_000;
    const auth = new Authenticator({ keys: b, cacheMs: 400, now: () => clock });
    try {
      const { key, id } = await issueKey(a, { name: 'bob', role: 'user' });
      assert.equal((await auth.authenticate(key)).keyId, id);
      await a.revoke(id, Date.now());
      assert.equal(await auth.isLive(id), false, 'the connection sweep asks the store directly');
      clock += 400;
      await assert.rejects(auth.authenticate(key), { status: 401 });
    } finally {
      await Promise.all([a.close(), b.close()]);
      await drop();
    }
  });
});

const TEN_A_MINUTE: Plan = { rate: 10 / 60, burst: 10, dailyQuota: null, maxConnections: 5 };
const admitted = (results: Admission[]): number => results.filter((r) => r.ok).length;

/** `n` charges of one key split across counters in turn, all in flight at once. */
const interleaved = (counters: UsageCounter[], n: number, keyId: string, plan: string) =>
  Promise.all(Array.from({ length: n }, (_, i) => counters[i % counters.length]!.admit(keyId, plan)));

async function twoReplicas(plans: Record<string, Plan>, now: () => number) {
  const { schema, drop } = await pgSchema('sb_usage');
  const a = createPostgresUsage({ url: POSTGRES_URL, schema, plans, now });
  const b = createPostgresUsage({ url: POSTGRES_URL, schema, plans, now });
  return {
    schema,
    a,
    b,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await drop();
    },
  };
}

describe('plan counters shared by two gateway processes', { skip: !postgres }, () => {
  it('admits exactly the burst of 15 concurrent charges split across both, as one process does', async () => {
    const plans = { ...DEFAULT_PLANS, tight: TEN_A_MINUTE };
    const now = () => 1_700_000_000_000;
    const r = await twoReplicas(plans, now);
    try {
      const shared = await interleaved([r.a, r.b], 15, 'key_1', 'tight');
      assert.equal(admitted(shared), 10);
      for (const x of shared.filter((x) => !x.ok))
        assert.deepEqual(x, { ok: false, reason: 'rate_limited', retryAfterS: 6 });
      assert.equal(await r.a.usedToday('key_1'), 10);
      assert.equal(await r.b.usedToday('key_1'), 10);
      assert.equal(await r.b.usedToday('key_2'), 0);
    } finally {
      await r.close();
    }
    const single = await interleaved([new UsageMeter(plans, now)], 15, 'key_1', 'tight');
    assert.equal(admitted(single), 10);
  });

  it('counts the daily quota across both, and starts afresh the next UTC day', async () => {
    const plans = { ...DEFAULT_PLANS, trial: { rate: 100, burst: 100, dailyQuota: 3, maxConnections: 1 } };
    let clock = 20_000 * DAY_MS + 1_000;
    const r = await twoReplicas(plans, () => clock);
    try {
      assert.equal((await r.a.admit('key_1', 'trial')).ok, true);
      assert.equal((await r.b.admit('key_1', 'trial')).ok, true);
      assert.equal((await r.a.admit('key_1', 'trial')).ok, true);
      for (const c of [r.b, r.a]) {
        const over = await c.admit('key_1', 'trial');
        assert.equal(over.ok, false);
        assert.equal(!over.ok && over.reason, 'quota_exceeded');
        assert.equal(!over.ok && over.retryAfterS, (DAY_MS - 1_000) / 1000);
      }
      assert.equal(await r.b.usedToday('key_1'), 3);
      clock += DAY_MS;
      assert.equal(await r.a.usedToday('key_1'), 0);
      assert.equal((await r.b.admit('key_1', 'trial')).ok, true);
      assert.equal(await r.a.usedToday('key_1'), 1);
    } finally {
      await r.close();
    }
  });

  it('admits and counts an unlimited key without storing Infinity', async () => {
    const r = await twoReplicas({ ...DEFAULT_PLANS }, () => 1_700_000_000_000);
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    try {
      assert.equal(admitted(await interleaved([r.a, r.b], 50, 'key_admin', 'unlimited')), 50);
      assert.equal(await r.a.usedToday('key_admin'), 50);
      await client.connect();
      const { rows } = await client.query<{ tokens: number }>(
        `SELECT tokens FROM "${r.schema}".usage_buckets WHERE key_id = $1`,
        ['key_admin'],
      );
      assert.ok(Number.isFinite(rows[0]?.tokens), `tokens ${rows[0]?.tokens}`);
    } finally {
      await client.end();
      await r.close();
    }
  });

  it('a replica whose clock lags does not reset a day another replica already started', async () => {
    const plans = { ...DEFAULT_PLANS, trial: { rate: 100, burst: 100, dailyQuota: 2, maxConnections: 1 } };
    const midnight = 20_001 * DAY_MS;
    const { schema, drop } = await pgSchema('sb_usage');
    const ahead = createPostgresUsage({ url: POSTGRES_URL, schema, plans, now: () => midnight + 500 });
    const behind = createPostgresUsage({ url: POSTGRES_URL, schema, plans, now: () => midnight - 500 });
    try {
      assert.equal((await ahead.admit('key_1', 'trial')).ok, true);
      assert.equal((await behind.admit('key_1', 'trial')).ok, true);
      assert.equal((await behind.admit('key_1', 'trial')).ok, false);
      assert.equal(await ahead.usedToday('key_1'), 2);
    } finally {
      await Promise.all([ahead.close(), behind.close()]);
      await drop();
    }
  });
});
