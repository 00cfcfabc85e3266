/**
 * Issue 17 #9: a provider that echoes the caller's API key in its 401. A real HTTP server on
 * 127.0.0.1 speaks the OpenAI chat-completions API and answers every request with that error; the
 * project is opened from a configuration and environment as the CLI opens it, served by the real
 * gateway, logged by the real journal logger. The key must appear nowhere: not in the journal, the
 * logs, the reported errors or any HTTP answer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { compileConfig } from '../../src/config.ts';
import { defineAgent } from '../../src/core/agent.ts';
import { createScrubber, secretsOf } from '../../src/core/scrub.ts';
import { createMemoryKeyStore, issueKey } from '../../src/gateway/keys.ts';
import { mapError } from '../../src/gateway/errors.ts';
import { createGateway, type Gateway } from '../../src/gateway/server.ts';
import { UserError } from '../../src/core/errors.ts';
import { openProject, type Project } from '../../src/project.ts';
import { attachJournalLogger } from '../../src/telemetry/logs.ts';

// Not key-shaped on purpose: only the configured value can catch it.
const API_KEY = 'local-provider-credential-7Hq2Zp9Xw4Lm';
const OTHER_KEY = 'sk-proj-Zx81LmQp0aBcDeFgHiJk';

const AUDIT_KEY = 'audit-key-from-the-config-file';

describe('hardening #9: secrets are scrubbed from errors', { timeout: 60_000 }, () => {
  let provider: Server;
  let dir: string;
  let project: Project;
  let gateway: Gateway;
  let url: string;
  let userKey: string;
  const authorizations: string[] = [];
  const logLines: string[] = [];
  const reported: string[] = [];
  let detachLogger: () => void;

  before(async () => {
    provider = createServer((req, res) => {
      authorizations.push(req.headers.authorization ?? '');
      req.resume();
      req.on('end', () => {
        const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: {
              message: `Incorrect API key provided: ${key}. Authorization: Bearer ${key}; also tried ${OTHER_KEY}`,
              type: 'invalid_request_error',
              code: 'invalid_api_key',
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    const port = (provider.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), 'sb-scrub-'));
    const env = {
      SWITCHBOARD_MODEL: `openai-compatible:http://127.0.0.1:${port}/v1#echo-model`,
      SWITCHBOARD_MODEL_API_KEY: API_KEY,
      SWITCHBOARD_DATA_DIR: dir,
    };
    const agent = defineAgent({ name: 'helper', responsibility: 'Help', instructions: 'Help.', tools: [] });
    const config = compileConfig(
      { agents: [agent], modelSettings: { maxRetries: 0 }, audit: { key: AUDIT_KEY } },
      { env },
    );
    project = await openProject(config, {
      env,
      onError: (e) => reported.push(e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e)),
      system: { pollMs: 20 },
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    assert.ok(project.secrets.includes(AUDIT_KEY), 'the audit key set in the file is a configured secret');
    detachLogger = attachJournalLogger(project.system.store, {
      logger: pino({ level: 'debug' }, sink),
      secrets: project.secrets,
    });
    await project.system.start();
    const keys = createMemoryKeyStore();
    userKey = (await issueKey(keys, { name: 'u', role: 'user' })).key;
    gateway = createGateway({
      system: project.system,
      keys,
      port: 0,
      adminPort: 0,
      consoleDir: false,
      onError: (e) => reported.push(e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e)),
    });
    url = (await gateway.start()).url;
  });

  after(async () => {
    await gateway?.stop();
    detachLogger?.();
    await project?.close();
    await new Promise<void>((resolve) => provider.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('hardening #9: a provider echoing the API key in a 401 leaks it nowhere (journal, logs, HTTP)', async () => {
    const headers = { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' };
    const res = await fetch(`${url}/v1/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ input: 'hello', sessionId: 's1', wait: true }),
    });
    const answer = await res.text();
    const run = JSON.parse(answer) as { runId: string; status: string; error?: { message: string } };
    assert.equal(run.status, 'failed');
    // The key was really in play: the provider got it and echoed it.
    assert.ok(authorizations.includes(`Bearer ${API_KEY}`));
    assert.match(run.error?.message ?? '', /Incorrect API key provided: \[redacted\]/);
    const got = await fetch(`${url}/v1/runs/${run.runId}`, { headers });
    const events = await fetch(`${url}/v1/runs/${run.runId}/events`, {
      headers: { ...headers, accept: 'application/json' },
    });
    const journal = JSON.stringify(await project.system.store.journal.read(run.runId));
    const everything = [answer, await got.text(), await events.text(), journal, ...logLines, ...reported];
    for (const secret of [API_KEY, OTHER_KEY]) {
      for (const where of everything)
        assert.ok(!where.includes(secret), `leaked ${secret} in ${where.slice(0, 300)}`);
    }
    assert.ok(
      logLines.some((l) => l.includes('"run failed"')),
      'the failure was logged',
    );
  });

  it('hardening #9: the scrubber removes configured secrets, bearer tokens and key-like strings', () => {
    const scrub = createScrubber(
      secretsOf({ MY_SERVICE_API_KEY: 'plain-credential-value', HOME: '/home/someone' }, [
        'postgres://app:db-pass-9911@db.internal:5432/prod',
      ]),
    );
    const out = scrub.text(
      'plain-credential-value Bearer abc.def-ghi_jkl sbk_AAAABBBBCCCCDDDD sk-ant-api03-XYZxyz012345 AKIAABCDEFGHIJKLMNOP api_key=hunter2hunter2 postgres://app:db-pass-9911@db.internal:5432/prod /home/someone',
    );
    for (const leaked of [
      'plain-credential-value',
      'abc.def',
      'sbk_AAAA',
      'sk-ant',
      'AKIAABCD',
      'hunter2',
      'db-pass-9911',
    ])
      assert.ok(!out.includes(leaked), `${leaked} in ${out}`);
    assert.ok(out.includes('/home/someone'), 'ordinary values stay');
  });

  it('hardening #9: gateway error answers and internal-error reports carry no credential', () => {
    const told = mapError(new UserError(`model rejected key ${OTHER_KEY} (Bearer ${OTHER_KEY})`, 'model'));
    assert.equal(told.status, 400);
    assert.ok(!JSON.stringify(told.body).includes(OTHER_KEY));
    const seen: unknown[] = [];
    const internal = mapError(new Error(`upstream said: token sbk_${'Q'.repeat(30)}`), (e) => seen.push(e));
    assert.equal(internal.status, 500);
    assert.ok(!String((seen[0] as Error).message).includes('QQQQ'));
    assert.ok(!String((seen[0] as Error).stack).includes('QQQQ'));
  });
});
