/**
 * Names of queues and agent versions: the runtime enqueues by them, telemetry labels by them, the
 * deployments announce by them.
 */

/** The queue of runs that wait for the router to pick their agent. */
export const ROUTER_QUEUE = 'router';
/** The queue of an agent's runs: one per labeled version, one per name for an unlabeled agent. */
export const agentQueue = (agent: string, version?: string): string =>
  version ? `agent:${agent}@${version}` : `agent:${agent}`;
/** How a version is named in announcements, `workers.agents` and the runtime's agent set. */
export const versionKey = (agent: string, version?: string): string =>
  version ? `${agent}@${version}` : agent;
