/** The configuration: validation messages, environment overrides, defaults, discovery. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compileConfig, DEFAULTS, ENV_KEYS } from '../../src/config.ts';
import { defineAgent } from '../../src/core/agent.ts';
import { DEPLOYMENT_DEFAULTS } from '../../src/core/deployment.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { CONFIG_FILES, ConfigMissingError, findConfig } from '../../src/project.ts';
import { systemOptionsOf } from '../../src/system-options.ts';

const agent = defineAgent({ name: 'a', responsibility: 'Answer', instructions: 'Answer.', tools: [] });

const failsWith = (input: unknown, message: RegExp, env?: Record<string, string>): void => {
  assert.throws(
    () => compileConfig(input, env ? { env } : {}),
    (e: unknown) => e instanceof ConfigError && message.test(e.message),
  );
};

describe('compileConfig', () => {
  it('names the path of an unknown key and the nearest valid one, at any depth', () => {
    failsWith(
      { agents: [agent], gateway: { prot: 1 } },
      /^gateway\.prot: unknown key \(did you mean gateway\.port\?\)$/,
    );
    failsWith(
      { agents: [agent], limits: { breaker: { treshold: 3 } } },
      /^limits\.breaker\.treshold: unknown key \(did you mean limits\.breaker\.threshold\?\)/,
    );
    failsWith({ agents: [agent], modle: 'offline' }, /^modle: unknown key \(did you mean model\?\)/);
    // Nothing near: no guess.
    failsWith({ agents: [agent], zzzzzzzz: 1 }, /^zzzzzzzz: unknown key$/);
    failsWith(
      { agents: [agent], routing: { coUsage: { run: 100 } } },
      /^routing\.coUsage\.run: unknown key \(did you mean routing\.coUsage\.runs\?\)$/,
    );
  });

  it('routing.coUsage: true, or runs / refreshMs / minRuns in range, reaches the system options', () => {
    failsWith({ agents: [agent], routing: { coUsage: { refreshMs: 10 } } }, /^routing\.coUsage\.refreshMs: /);
    failsWith({ agents: [agent], routing: { coUsage: 'yes' } }, /^routing\.coUsage: /);
    const on = compileConfig({ agents: [agent], routing: { coUsage: { runs: 200 } } });
    assert.deepEqual(on.routing.coUsage, { runs: 200 });
    assert.deepEqual(systemOptionsOf(on).coUsage, { runs: 200 });
    assert.equal(compileConfig({ agents: [agent] }).routing.coUsage, undefined);
  });

  it('names wrong types, a missing delegate, a bad model string', () => {
    failsWith({ agents: [agent], gateway: { port: 70_000 } }, /^gateway\.port: /);
    failsWith({ agents: [] }, /^agents: needs at least one agent/);
    failsWith(
      { agents: [{ ...agent, delegates: ['b'] }] },
      /^agents\[0\]\.delegates\[0\]: agent "a" delegates to "b", which is not defined/,
    );
    failsWith({ agents: [agent], model: 'openai' }, /^model: "openai" is not <provider>:<model>/);
    failsWith({ agents: [agent], defaultAgent: 'b' }, /^defaultAgent: unknown agent "b"/);
  });

  it('fills every default from DEFAULTS', () => {
    const c = compileConfig({ agents: [agent] }, { cwd: '/srv/app' });
    assert.equal(c.model, DEFAULTS.model);
    assert.equal(c.store.dataDir, '/srv/app/.switchboard');
    assert.equal(c.gateway.port, DEFAULTS.gateway.port);
    assert.equal(c.limits.leaseMs, DEFAULTS.limits.leaseMs);
    assert.deepEqual(c.budgets, DEFAULTS.budgets);
    assert.equal(c.memory.k, DEFAULTS.memory.k);
  });

  it('environment variables override the file, and a bad one is named by its variable', () => {
    const c = compileConfig(
      { agents: [agent], gateway: { port: 8080 }, store: { schema: 'file' } },
      {
        env: {
          SWITCHBOARD_PORT: '9090',
          SWITCHBOARD_DATABASE_SCHEMA: 'env',
          SWITCHBOARD_CORS_ORIGINS: 'https://a, https://b',
        },
      },
    );
    assert.equal(c.gateway.port, 9090);
    assert.equal(c.store.schema, 'env');
    assert.deepEqual(c.gateway.cors?.origins, ['https://a', 'https://b']);
    assert.equal(c.fromEnv['gateway.port'], 'SWITCHBOARD_PORT');
    failsWith({ agents: [agent] }, /^SWITCHBOARD_PORT: must be a number/, { SWITCHBOARD_PORT: 'x' });
    failsWith({ agents: [agent] }, /^SWITCHBOARD_DATABASE_URL: must be a postgres:\/\/ URL/, {
      SWITCHBOARD_DATABASE_URL: 'mysql://x',
    });
    // Every documented variable maps onto a key the schema knows (an unknown key would fail).
    const sample: Record<string, string> = {
      SWITCHBOARD_MODEL: 'offline',
      SWITCHBOARD_DATA_DIR: 'data',
      SWITCHBOARD_DATABASE_URL: 'postgres://db/x',
      SWITCHBOARD_DATABASE_SCHEMA: 'abc',
      SWITCHBOARD_HOST: '0.0.0.0',
      SWITCHBOARD_CORS_ORIGINS: 'https://a',
      SWITCHBOARD_LOG_LEVEL: 'debug',
      SWITCHBOARD_PRICES: '{"m":{"input":1,"output":2}}',
      OTEL_SERVICE_NAME: 'svc',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
      SWITCHBOARD_FAULTS: 'seed=1,p=0',
      SWITCHBOARD_MODEL_CONTEXT_TOKENS: '8192',
      SWITCHBOARD_AUDIT_KEY: 'a-random-secret-of-32-characters',
      SWITCHBOARD_AUDIT_PREVIOUS_KEYS: 'an-old-secret-of-24-chars, another-old-secret-key',
    };
    for (const variable of Object.keys(ENV_KEYS)) {
      if (variable === 'SWITCHBOARD_MCP_CONFIG') continue; // a file: tested through the CLI
      const value = sample[variable] ?? '5';
      const compiled = compileConfig({ agents: [agent] }, { env: { [variable]: value } });
      assert.equal(compiled.fromEnv[ENV_KEYS[variable]!], variable);
    }
  });

  it('a plan in requests per minute becomes rate and burst', () => {
    const c = compileConfig({ agents: [agent], gateway: { plans: { tenpm: { requestsPerMinute: 10 } } } });
    assert.deepEqual(c.gateway.plans.tenpm, {
      rate: 10 / 60,
      burst: 10,
      dailyQuota: 50_000,
      maxConnections: 20,
    });
  });
});

describe('compileConfig: deployments', () => {
  it('a wrong deployments key names its path and the nearest valid key', () => {
    failsWith(
      { agents: [agent], deployments: { evaluateEveryMS: 500 } },
      /^deployments\.evaluateEveryMS: unknown key \(did you mean deployments\.evaluateEveryMs\?\)$/,
    );
    failsWith(
      { agents: [agent], deployments: { alarms: { errorRat: 0.2 } } },
      /^deployments\.alarms\.errorRat: unknown key \(did you mean deployments\.alarms\.errorRate\?\)$/,
    );
    failsWith(
      { agents: [agent], deployments: { validation: { replay: { run: 5 } } } },
      /^deployments\.validation\.replay\.run: unknown key \(did you mean deployments\.validation\.replay\.runs\?\)$/,
    );
    failsWith(
      { agents: [agent], deploymens: {} },
      /^deploymens: unknown key \(did you mean deployments\?\)$/,
    );
    failsWith({ agents: [agent], deployments: { minRuns: 0 } }, /^deployments\.minRuns: /);
    failsWith(
      { agents: [agent], deployments: { alarms: { errorRate: 'high' } } },
      /^deployments\.alarms\.errorRate: /,
    );
  });

  it('fills the deployment defaults from DEPLOYMENT_DEFAULTS; null turns an alarm off, false turns replay off', () => {
    const c = compileConfig({ agents: [agent] });
    assert.equal(DEFAULTS.deployments, DEPLOYMENT_DEFAULTS);
    assert.deepEqual(c.deployments, {
      evaluateEveryMs: DEPLOYMENT_DEFAULTS.evaluateEveryMs,
      leaseMs: DEPLOYMENT_DEFAULTS.leaseMs,
      minRuns: DEPLOYMENT_DEFAULTS.minRuns,
      alarms: { ...DEPLOYMENT_DEFAULTS.alarms },
      validation: { replay: { ...DEPLOYMENT_DEFAULTS.validation.replay } },
    });
    const d = compileConfig({
      agents: [agent],
      deployments: {
        minRuns: 3,
        alarms: { errorRate: null, p95LatencyRatio: 3 },
        validation: { replay: false, suite: 'routing.suite.json' },
      },
    }).deployments;
    assert.equal(d.minRuns, 3);
    assert.equal(d.leaseMs, DEPLOYMENT_DEFAULTS.leaseMs);
    assert.equal(d.alarms.errorRate, null);
    assert.equal(d.alarms.p95LatencyRatio, 3);
    assert.equal(d.alarms.costPerRunRatio, DEPLOYMENT_DEFAULTS.alarms.costPerRunRatio);
    assert.deepEqual(d.validation, { replay: false, suite: 'routing.suite.json' });
    const r = compileConfig({ agents: [agent], deployments: { validation: { replay: { runs: 5 } } } });
    assert.deepEqual(r.deployments.validation.replay, {
      runs: 5,
      maxDivergenceRate: DEPLOYMENT_DEFAULTS.validation.replay.maxDivergenceRate,
    });
  });

  it('SWITCHBOARD_VERSION_SOURCE sets deployments.source over the file', () => {
    assert.equal(ENV_KEYS.SWITCHBOARD_VERSION_SOURCE, 'deployments.source');
    const c = compileConfig(
      { agents: [agent], deployments: { source: 'file-sha', minRuns: 4 } },
      { env: { SWITCHBOARD_VERSION_SOURCE: ' 3f9c2ab ' } },
    );
    assert.equal(c.deployments.source, '3f9c2ab');
    assert.equal(c.deployments.minRuns, 4);
    assert.equal(c.fromEnv['deployments.source'], 'SWITCHBOARD_VERSION_SOURCE');
    assert.equal(compileConfig({ agents: [agent] }).deployments.source, undefined);
  });

  it('two versions of one agent need distinct labels', () => {
    const v1 = defineAgent({ ...agent, version: 'v1' });
    const v2 = defineAgent({ ...agent, version: 'v2' });
    const c = compileConfig({ agents: [v1, v2] });
    assert.equal((c.agents as unknown[]).length, 2);
    failsWith({ agents: [v1, agent] }, /^agents\.a: /);
    failsWith({ agents: [v1, v1] }, /^agents\.a: /);
  });
});

describe('findConfig', () => {
  it('takes --config, then SWITCHBOARD_CONFIG, then the first of the known names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-find-'));
    try {
      assert.throws(() => findConfig({ cwd: dir, env: {} }), ConfigMissingError);
      writeFileSync(join(dir, 'switchboard.config.mjs'), '');
      assert.equal(findConfig({ cwd: dir, env: {} }), join(dir, 'switchboard.config.mjs'));
      writeFileSync(join(dir, 'switchboard.config.ts'), '');
      assert.equal(findConfig({ cwd: dir, env: {} }), join(dir, CONFIG_FILES[0]));
      writeFileSync(join(dir, 'other.ts'), '');
      assert.equal(findConfig({ cwd: dir, env: { SWITCHBOARD_CONFIG: 'other.ts' } }), join(dir, 'other.ts'));
      assert.equal(
        findConfig({ cwd: dir, config: 'switchboard.config.mjs', env: { SWITCHBOARD_CONFIG: 'other.ts' } }),
        join(dir, 'switchboard.config.mjs'),
      );
      assert.throws(
        () => findConfig({ cwd: dir, config: 'missing.ts' }),
        /--config: missing\.ts does not exist/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
