/**
 * The engine and recovery suites, rerun on PostgreSQL (a fresh schema per system) when a server is
 * reachable. Everything is imported after the adapter switch is set (helpers read it once).
 */
process.env.SWITCHBOARD_TEST_ADAPTERS = 'postgres';
const { requirePostgres } = await import('../helpers.ts');
if (await requirePostgres()) {
  await import('./engine.test.ts');
  await import('./recovery.test.ts');
}
