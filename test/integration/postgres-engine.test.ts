/**
 * The engine and recovery suites, rerun on PostgreSQL (a fresh schema per system) when a server is
 * reachable. Everything is imported after the adapter switch is set (helpers read it once).
 */
process.env.SWITCHBOARD_TEST_ADAPTERS = 'postgres';
const { POSTGRES_URL, postgresAvailable } = await import('../helpers.ts');
if (await postgresAvailable) {
  await import('./engine.test.ts');
  await import('./recovery.test.ts');
} else {
  console.warn(`# postgres engine suites skipped: no server at ${POSTGRES_URL}`);
}
