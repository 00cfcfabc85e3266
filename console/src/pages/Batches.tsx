/**
 * Batches: the caller's batches (operators and admins: everyone's) with their records per status,
 * and one batch's records in input order with links to their runs, plus cancel for a batch still
 * running (the gateway lets only its owner, operators and admins see it at all). Everything comes
 * from `GET /v1/batches`, `GET /v1/batches/:id/results` and `POST /v1/batches/:id/cancel`.
 */
import { useState } from 'react';
import { ApiError, type Api, type BatchView } from '../api.ts';
import { usePoll } from '../hooks.ts';

/** Final records over the total: done, failed (invalid included), still to go. */
function progressOf(b: BatchView): { done: number; failed: number } {
  const c = b.counts;
  const failed = (c.failed ?? 0) + (c.invalid ?? 0);
  const done = failed + (c.completed ?? 0) + (c.cancelled ?? 0) + (c.escalated ?? 0);
  return { done, failed };
}

const statusClass = (s: string): string =>
  s === 'running' ? 'status-running' : s === 'cancelled' ? 'status-failed' : `status-${s}`;

function BatchRecords(props: { api: Api; batch: BatchView; onChange: () => void }) {
  const { batch } = props;
  const rows = usePoll(
    (signal) => props.api.batchResults(batch.batchId, signal),
    batch.status === 'running' ? 2000 : 0,
    [batch.batchId, batch.status],
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancel = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await props.api.post(`/v1/batches/${encodeURIComponent(batch.batchId)}/cancel`, {});
      props.onChange();
      rows.reload();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="batch-h" data-batch={batch.batchId}>
      <h2 id="batch-h">
        {batch.batchId}{' '}
        <span className={`badge ${statusClass(batch.status)}`} data-testid="batch-status">
          {batch.status}
        </span>
      </h2>
      <p className="muted">
        {batch.total} records · owner {batch.owner} · {batch.agent ?? 'routed'} · from {batch.origin} · input{' '}
        <code>{batch.inputDigest.slice(0, 12)}</code>
      </p>
      {batch.status === 'running' && (
        <div className="actions">
          <button type="button" disabled={busy} onClick={() => void cancel()}>
            Cancel batch
          </button>
        </div>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {rows.error && (
        <p role="alert" className="error">
          {rows.error}
        </p>
      )}
      <table aria-label={`Records of ${batch.batchId}`}>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Id</th>
            <th scope="col">Status</th>
            <th scope="col">Run</th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
          {(rows.data ?? []).map((r, i) => (
            <tr key={i} data-record={r.id}>
              <td>{i + 1}</td>
              <td>{r.id}</td>
              <td>
                <span className={`badge status-${r.status}`}>{r.status}</span>
              </td>
              <td>{r.runId ? <a href={`#/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</a> : '—'}</td>
              <td className="muted">{(r.output ?? r.error?.message ?? '').slice(0, 120)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function BatchesPage(props: { api: Api; selected: string | null }) {
  const list = usePoll((signal) => props.api.get<{ batches: BatchView[] }>('/v1/batches', signal), 3000, []);
  const batches = list.data?.batches ?? [];
  const selected = batches.find((b) => b.batchId === props.selected) ?? null;
  return (
    <section aria-labelledby="batches-h">
      <h1 id="batches-h">Batches</h1>
      {list.error && (
        <p role="alert" className="error">
          {list.error}
        </p>
      )}
      {list.data && batches.length === 0 && (
        <p className="muted">
          No batches yet (<code>switchboard batch run input.jsonl --out output.jsonl</code>, or{' '}
          <code>POST /v1/batches</code>).
        </p>
      )}
      {batches.length > 0 && (
        <table aria-label="Batches">
          <thead>
            <tr>
              <th scope="col">Batch</th>
              <th scope="col">Status</th>
              <th scope="col">Done</th>
              <th scope="col">Failed</th>
              <th scope="col">Owner</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {batches.map((b) => {
              const p = progressOf(b);
              return (
                <tr key={b.batchId} data-batch-row={b.batchId}>
                  <td>
                    <a
                      href={`#/batches/${encodeURIComponent(b.batchId)}`}
                      aria-current={b.batchId === props.selected ? 'true' : undefined}
                    >
                      {b.batchId}
                    </a>
                  </td>
                  <td>
                    <span className={`badge ${statusClass(b.status)}`}>{b.status}</span>
                  </td>
                  <td data-testid="batch-done">
                    {p.done}/{b.total}
                  </td>
                  <td data-testid="batch-failed">{p.failed}</td>
                  <td>{b.owner}</td>
                  <td>{new Date(b.createdAt).toLocaleString()}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {selected && <BatchRecords api={props.api} batch={selected} onChange={list.reload} />}
    </section>
  );
}
