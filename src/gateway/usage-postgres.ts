/**
 * Plan counters on PostgreSQL (table `usage_buckets` in the store's schema): every gateway replica
 * on the database charges the same bucket, so a key's rate and daily quota hold across replicas.
 */
import {
  checkPlans,
  meterRequest,
  newBucket,
  planOf,
  usedOn,
  type Admission,
  type Bucket,
  type Plan,
  type UsageCounter,
} from './plans.ts';
import { gatewayTables, type GatewayPgOptions } from './keys-postgres.ts';

/** One row per key; every value finite (an unmetered plan keeps no tokens). */
const USAGE_DDL = (s: string): string => `CREATE TABLE IF NOT EXISTS ${s}.usage_buckets (
  key_id text PRIMARY KEY,
  tokens double precision NOT NULL,
  at bigint NOT NULL,
  day integer NOT NULL,
  used bigint NOT NULL
)`;

interface BucketRow {
  tokens: number;
  at: string | number;
  day: number;
  used: string | number;
}

const bucketOf = (r: BucketRow): Bucket => ({
  tokens: Number(r.tokens),
  at: Number(r.at),
  day: Number(r.day),
  used: Number(r.used),
});

/**
 * Plan counters shared through PostgreSQL, on an injected clock (each replica's own; a bucket never
 * runs backwards when clocks differ a little, see `meterRequest`).
 * @example
 * const usage = createPostgresUsage({ url, schema: 'switchboard', plans: DEFAULT_PLANS });
 * const gateway = createGateway({ system, keys, usage });
 */
export function createPostgresUsage(
  options: GatewayPgOptions & { plans: Readonly<Record<string, Plan>>; now?: () => number },
): UsageCounter {
  checkPlans(options.plans);
  const now = options.now ?? Date.now;
  const db = gatewayTables(options, 'usage', USAGE_DDL);
  const { pool, s } = db;
  return {
    plan: (name) => planOf(options.plans, name),

    async admit(keyId, planName): Promise<Admission> {
      const plan = planOf(options.plans, planName);
      const at = now();
      await db.ready();
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        // The upsert locks the key's row, new or not, until COMMIT: a concurrent charge from any
        // replica waits here and then reads this charge's result, so none is lost or doubled.
        const fresh = newBucket(plan, at);
        const { rows } = await client.query<BucketRow>(
          `INSERT INTO ${s}.usage_buckets AS b (key_id, tokens, at, day, used) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (key_id) DO UPDATE SET key_id = b.key_id
           RETURNING tokens, at, day, used`,
          [keyId, fresh.tokens, fresh.at, fresh.day, fresh.used],
        );
        const { bucket, admission } = meterRequest(bucketOf(rows[0]!), plan, at);
        await client.query(
          `UPDATE ${s}.usage_buckets SET tokens = $2, at = $3, day = $4, used = $5 WHERE key_id = $1`,
          [keyId, bucket.tokens, bucket.at, bucket.day, bucket.used],
        );
        await client.query('COMMIT');
        return admission;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      } finally {
        client.release(broken);
      }
    },

    async usedToday(keyId) {
      await db.ready();
      const { rows } = await pool.query<BucketRow>(
        `SELECT tokens, at, day, used FROM ${s}.usage_buckets WHERE key_id = $1`,
        [keyId],
      );
      return usedOn(rows[0] ? bucketOf(rows[0]) : null, now());
    },

    close: () => db.close(),
  };
}
