/**
 * The wire and the server under test of bench/fuzz.ts: raw HTTP/1.1 over a fresh socket per
 * request (nothing normalised on the way), and a spawned `switchboard serve`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'switchboard.js');

/** One request as bytes on the wire. */
export interface Wire {
  listener: 'public' | 'admin';
  method: string;
  path: string;
  headers: [string, string][];
  body: Buffer | null;
  /** Source address on 127.0.0.0/8 (failed keys are throttled per address). */
  from: string;
}

// ---------------------------------------------------------------------------------------------
// The wire

/** Send `w` over a fresh socket; the status (0 when unanswered) and the start of the body. */
export function send(w: Wire, port: number, timeoutMs = 5_000): Promise<{ status: number; head: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: w.from });
    const lines = [`${w.method} ${w.path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close'];
    for (const [k, v] of w.headers) lines.push(`${k}: ${v}`);
    if (w.body) lines.push(`Content-Length: ${w.body.length}`);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      const bodyAt = text.indexOf('\r\n\r\n');
      resolve({ status, head: bodyAt >= 0 ? text.slice(bodyAt + 4, bodyAt + 304) : '' });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      const text = Buffer.concat(chunks).toString('latin1');
      // A stream (SSE, a WebSocket) answers with its status and stays open: the status is enough.
      if (
        /^HTTP\/1\.1 101/.test(text) ||
        (/\r\n\r\n/.test(text) && /content-type: text\/event-stream/i.test(text))
      )
        finish();
      if (size > 64 * 1024) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(
      Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), w.body ?? Buffer.alloc(0)]),
    );
  });
}

export const describeWire = (w: Wire): string => {
  const body = w.body ? w.body.subarray(0, 200).toString('utf8') : '';
  return `${w.listener} ${w.method} ${w.path.slice(0, 200)} [${w.headers.map(([k, v]) => `${k}: ${v.slice(0, 40)}`).join('; ')}] ${body}`;
};

// ---------------------------------------------------------------------------------------------
// The server under test

export interface Server {
  child: ChildProcess;
  port: number;
  adminPort: number;
  stderr: string[];
  exited: () => boolean;
  stop(): Promise<void>;
}

export function cli(args: string[], env: NodeJS.ProcessEnv, config: string): string {
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', config], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`switchboard ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function startServer(env: NodeJS.ProcessEnv, config: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--config', config, '--port', '0', '--admin-port', '0'],
      {
        env,
      },
    );
    let out = '';
    const stderr: string[] = [];
    let exited = false;
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
    child.on('exit', () => {
      exited = true;
      clearTimeout(timer);
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
      stderr.push(...d.toString().split('\n').filter(Boolean));
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const port = /switchboard gateway on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      const adminPort = /admin listener on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (port && adminPort && /\nserving /.test(`\n${out}`)) {
        clearTimeout(timer);
        resolve({
          child,
          port: Number(port),
          adminPort: Number(adminPort),
          stderr,
          exited: () => exited,
          stop: () =>
            new Promise<void>((done) => {
              if (exited) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

export const keyOf = (out: string): string =>
  (JSON.parse(out.trim().split('\n').at(-1)!) as { key: string }).key;
