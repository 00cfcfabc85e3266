/**
 * Cross-process append notifications on LISTEN/NOTIFY. A commit that appends sends, inside its own
 * transaction, `pg_notify(channel, {o: origin, a: [[runId, fromSeq, toSeq], …]})`; PostgreSQL
 * delivers it only if the commit succeeds, and in commit order. Each store holds one dedicated
 * connection that LISTENs, and reconnects with backoff when it is lost. A notification missed
 * while reconnecting loses nothing: followers read the journal from their last seq.
 */
import pg from 'pg';
import { backoffMs, DEFAULT_RETRY } from './errors.ts';

/** One notification: the origin store and the seq ranges it appended, per run. */
export interface AppendNotice {
  o: string;
  a: [runId: string, from: number, to: number][];
}

/** NOTIFY payloads must stay under 8000 bytes: split the ranges into chunks well below it. */
export function noticePayloads(origin: string, ranges: AppendNotice['a']): string[] {
  const out: string[] = [];
  let chunk: AppendNotice['a'] = [];
  let size = 0;
  for (const r of ranges) {
    const len = JSON.stringify(r).length + 1;
    if (chunk.length > 0 && size + len > 6000) {
      out.push(JSON.stringify({ o: origin, a: chunk }));
      chunk = [];
      size = 0;
    }
    chunk.push(r);
    size += len;
  }
  if (chunk.length > 0) out.push(JSON.stringify({ o: origin, a: chunk }));
  return out;
}

export interface ListenerOptions {
  url: string;
  channel: string;
  applicationName: string;
  onNotice: (notice: AppendNotice) => void;
  /** Connected (true) or lost (false); readiness follows it. */
  onState: (connected: boolean) => void;
  onError: (error: unknown) => void;
}

/** A LISTEN connection that survives being terminated. */
export class NoticeListener {
  readonly #opts: ListenerOptions;
  #client: pg.Client | null = null;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: ListenerOptions) {
    this.#opts = opts;
  }

  /** Connect once; later losses reconnect in the background. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const c = this.#client;
    this.#client = null;
    await c?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#opts.url,
      application_name: this.#opts.applicationName,
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, null));
    client.on('notification', (msg) => {
      if (msg.channel !== this.#opts.channel || !msg.payload) return;
      try {
        this.#opts.onNotice(JSON.parse(msg.payload) as AppendNotice);
      } catch (error) {
        this.#opts.onError(error);
      }
    });
    await client.connect();
    await client.query(`LISTEN "${this.#opts.channel.replace(/"/g, '""')}"`);
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#attempt = 0;
    this.#opts.onState(true);
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = null;
    this.#opts.onState(false);
    if (error) this.#opts.onError(error);
    client.end().catch(() => {});
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    const delay = backoffMs(DEFAULT_RETRY, Math.min(this.#attempt++, 6));
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#connect().catch((error: unknown) => {
        this.#opts.onError(error);
        this.#schedule();
      });
    }, delay);
    this.#timer.unref();
  }
}
