/**
 * `switchboard chat`: an interactive terminal chat against a running system (`serve` or `demo`)
 * through the gateway's WebSocket API, with live progress lines and the answer streaming in.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { createInterface } from 'node:readline';
import { newId } from '../core/ids.ts';

interface Frame {
  type: string;
  runId?: string;
  text?: string;
  message?: string;
  code?: string;
  event?: { type: string; data: Record<string, unknown> };
}

/** Print what a user should see of one frame; true when the run's answer is complete. */
function show(frame: Frame, out: (line: string) => void, streamed: { text: boolean }): boolean {
  if (frame.type === 'error') out(`! ${frame.code ?? 'error'}: ${frame.message ?? ''}`);
  if (frame.type === 'answer.delta' && frame.text) {
    process.stdout.write(streamed.text ? frame.text : `bot: ${frame.text}`);
    streamed.text = true;
  }
  if (frame.type === 'heartbeat') out('  … still working');
  const e = frame.event;
  if (frame.type !== 'event' || !e) return false;
  const d = e.data;
  switch (e.type) {
    case 'progress':
      out(`  … ${String(d.message)}`);
      return false;
    case 'route.decided':
      out(`  · ${String(d.agent)} is on it`);
      return false;
    case 'approval.requested':
      out(`  ⏸ waiting for an approver: ${(d.reasons as string[]).join('; ')}`);
      return true;
    case 'run.completed':
      if (streamed.text) process.stdout.write('\n');
      else out(`bot: ${String(d.output)}`);
      return true;
    case 'route.escalated':
    case 'run.escalated':
      out(`bot: I am handing this to a person (${String(d.reason)}).`);
      return true;
    case 'run.failed':
      out(`! failed: ${String((d.error as { message?: string }).message)}`);
      return true;
    case 'run.cancelled':
      out('! cancelled');
      return true;
    default:
      return false;
  }
}

export function registerChatCommand(program: Command): void {
  program
    .command('chat')
    .description('chat with a running system (switchboard serve / demo) in the terminal, with live progress')
    .option('--url <url>', 'gateway URL (default $SWITCHBOARD_URL, else http://127.0.0.1:7070)')
    .option('--key <key>', 'API key (default $SWITCHBOARD_API_KEY)')
    .option('--session <id>', 'session id (a new one by default)')
    .action(async (options: { url?: string; key?: string; session?: string }) => {
      const env = (await import('../config.ts')).processEnv();
      const { WebSocket } = await import('ws');
      const opts = { ...options, url: options.url ?? env.SWITCHBOARD_URL ?? 'http://127.0.0.1:7070' };
      const key = opts.key ?? env.SWITCHBOARD_API_KEY;
      if (!key)
        throw new InvalidArgumentError('give --key or set SWITCHBOARD_API_KEY (npm start prints a user key)');
      let url: URL;
      try {
        url = new URL('/v1/ws', opts.url.replace(/^http/, 'ws'));
      } catch {
        throw new InvalidArgumentError(`--url "${opts.url}" is not a URL`);
      }
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` } });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(`gateway refused the connection (${res.statusCode})`)),
        );
      });
      const session = opts.session ?? newId('chat');
      const out = (line: string): void => console.log(line);
      out(`connected to ${opts.url} (session ${session}); empty line or Ctrl-D to quit`);
      let done: (() => void) | null = null;
      const streamed = { text: false };
      ws.on('message', (raw: Buffer) => {
        const frame = JSON.parse(raw.toString('utf8')) as Frame;
        if (show(frame, out, streamed)) done?.();
      });
      ws.on('close', () => done?.());
      // Lines are read as a stream, so piped input works as well as typing.
      const rl = createInterface({ input: process.stdin, terminal: false });
      process.stdout.write('you: ');
      try {
        for await (const raw of rl) {
          const line = raw.trim();
          if (!line || ws.readyState !== WebSocket.OPEN) break;
          streamed.text = false;
          const finished = new Promise<void>((resolve) => (done = resolve));
          ws.send(
            JSON.stringify({
              action: 'sendMessage',
              sessionId: session,
              text: line,
              clientMessageId: newId('msg'),
            }),
          );
          await finished;
          process.stdout.write('you: ');
        }
      } finally {
        rl.close();
        ws.close();
      }
    });
}
