/**
 * The reference system as a Switchboard project: an enterprise support desk with four narrow
 * agents over 18 business tools. `npm start` (= `switchboard demo`) serves this file; any command
 * takes it with `--config examples/enterprise/switchboard.config.ts`.
 */
import { defineConfig } from '../../src/index.ts';
import { ENTERPRISE_ROUTING, enterpriseAgents } from './agents.ts';
import { enterprisePolicies } from './policies.ts';

export default defineConfig({
  agents: enterpriseAgents,
  routing: { ...ENTERPRISE_ROUTING },
  policies: enterprisePolicies(),
});

/** The requests `switchboard demo` plays (each shows one capability on the seeded data). */
export { TOUR as tour } from './tour.ts';
