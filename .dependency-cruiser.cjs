/**
 * The layers of src/ (docs/architecture.md, "Layers"), checked by `npm run lint`
 * (`depcruise src --config .dependency-cruiser.cjs`).
 *
 * LAYERS runs from the bottom up. A module may import its own group and any group of a lower
 * level; never a group of a higher level, nor another group of its own level (store, routing and
 * models are independent adapters). Type-only imports count (tsPreCompilationDeps: a type-only
 * cycle still ties two modules together), and every import cycle is an error.
 */

const GATEWAY_CONFIG = '(inbound-config|hook-template|keys|keys-postgres)\\.ts$';

/** Each group is one regular expression over paths relative to the checkout. */
const LAYERS = [
  { level: 0, group: 'core', path: '^src/core/' },
  { level: 1, group: 'store', path: '^src/store/' },
  { level: 1, group: 'routing', path: '^src/routing/' },
  { level: 1, group: 'models', path: '^src/models/' },
  { level: 2, group: 'memory', path: '^src/memory/' },
  { level: 2, group: 'telemetry', path: '^src/telemetry/' },
  { level: 2, group: 'mcp', path: '^src/mcp/' },
  // The gateway's inbound configuration and key stores: the composition root opens them.
  { level: 2, group: 'gateway-config', path: `^src/gateway/${GATEWAY_CONFIG}` },
  // Replay re-runs the runtime's decisions over a journal; deployments validate and shadow with it.
  { level: 3, group: 'runtime', path: '^src/(runtime/|replay/(?!command\\.ts$))' },
  {
    level: 4,
    group: 'composition',
    path: '^src/(config|config-schema|config-keys|config-types|system|system-options|project|package-info)\\.ts$',
  },
  // Clients of the System.
  { level: 5, group: 'batch', path: '^src/batch/' },
  { level: 5, group: 'replay-command', path: '^src/replay/command\\.ts$' },
  { level: 6, group: 'gateway', path: `^src/gateway/(?!${GATEWAY_CONFIG})` },
  { level: 7, group: 'cli', path: '^src/cli/' },
  // The package's entry points: nothing in src/ imports them.
  { level: 8, group: 'entry', path: '^src/(index\\.ts$|testing\\.ts$|testing/)' },
];

const LAYER_PATHS = LAYERS.map((layer) => layer.path);

/** One rule per group: it must not import the groups above it or beside it. */
const layerRules = LAYERS.flatMap((from) => {
  const banned = LAYERS.filter(
    (to) => to.level > from.level || (to.level === from.level && to.group !== from.group),
  );
  if (banned.length === 0) return [];
  return {
    name: `layer-${from.group}`,
    severity: 'error',
    comment: `${from.group} (level ${from.level}) imports only its own group and lower levels, not ${banned.map((to) => to.group).join(', ')}`,
    from: { path: from.path },
    to: { path: banned.map((to) => to.path) },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle (type-only imports included): break it with a port in the lower module.',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'engine-behind-system',
      severity: 'error',
      comment: 'Only the runtime and the composition root see the Engine; everything else uses the System.',
      from: { path: '^src/', pathNot: '^src/(runtime/|system\\.ts$)' },
      to: { path: '^src/runtime/engine\\.ts$' },
    },
    // A module in no layer is caught whether it imports, is imported, or stands alone.
    ...[
      { from: { path: '^src/', pathNot: LAYER_PATHS }, to: {} },
      { from: {}, to: { path: '^src/', pathNot: LAYER_PATHS } },
      { from: { orphan: true, path: '^src/', pathNot: LAYER_PATHS }, to: {} },
    ].map((rule) => ({
      name: 'not-in-a-layer',
      severity: 'error',
      comment: 'Every module of src/ belongs to a layer: add it to LAYERS in .dependency-cruiser.cjs.',
      ...rule,
    })),
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file and no installed package.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    // Resolve package subpaths (hono/cors, @modelcontextprotocol/sdk/…) through their exports maps.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
