/** The approvals inbox: pending approvals with the call, its arguments and reasons; approve or reject with a comment. */
import { useState } from 'react';
import { ApiError, fmt, type Api, type Approval } from '../api.ts';
import { usePoll } from '../hooks.ts';

function ApprovalCard(props: { api: Api; a: Approval; onDecided: (msg: string) => void }) {
  const { a } = props;
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const decide = async (decision: 'approved' | 'rejected'): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await props.api.post(`/v1/approvals/${encodeURIComponent(a.approvalId)}`, {
        decision,
        ...(comment.trim() ? { comment: comment.trim() } : {}),
      });
      props.onDecided(`${a.tool} for run ${a.runId}: ${decision}`);
    } catch (e) {
      setError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
    } finally {
      setBusy(false);
    }
  };
  const id = `c-${a.approvalId}`;
  return (
    <article className="approval" data-approval-id={a.approvalId} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>
        {a.tool} <span className="muted">by {a.agent}</span>
      </h2>
      <p>
        Run <a href={`#/runs/${a.runId}`}>{a.runId}</a> · requested by {a.requestedBy} at{' '}
        {fmt.time(a.requestedAt)} · expires {new Date(a.expiresAt).toLocaleString()}
      </p>
      <h3>Why it needs approval</h3>
      <ul>
        {a.reasons.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
      <h3>Arguments</h3>
      <pre>{JSON.stringify(a.args, null, 2)}</pre>
      <label htmlFor={id}>Comment (recorded in the journal)</label>
      <textarea
        id={id}
        value={comment}
        onChange={(e) => setComment(e.target.value)}
        rows={2}
        maxLength={2000}
      />
      <div className="actions">
        <button type="button" className="approve" disabled={busy} onClick={() => void decide('approved')}>
          Approve
        </button>
        <button type="button" className="reject" disabled={busy} onClick={() => void decide('rejected')}>
          Reject
        </button>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </article>
  );
}

export function ApprovalsPage(props: { api: Api }) {
  const [notice, setNotice] = useState<string | null>(null);
  const pending = usePoll(
    (signal) => props.api.get<{ approvals: Approval[] }>('/v1/approvals?status=pending&limit=100', signal),
    2000,
    [],
  );
  const decided = usePoll(
    async (signal) => {
      const [ok, no] = await Promise.all([
        props.api.get<{ approvals: Approval[] }>('/v1/approvals?status=approved&limit=10', signal),
        props.api.get<{ approvals: Approval[] }>('/v1/approvals?status=rejected&limit=10', signal),
      ]);
      return [...ok.approvals, ...no.approvals]
        .sort((x, y) => (y.decidedAt ?? 0) - (x.decidedAt ?? 0))
        .slice(0, 10);
    },
    5000,
    [notice],
  );
  const list = pending.data?.approvals ?? [];
  return (
    <section aria-labelledby="appr-h">
      <h1 id="appr-h">Approvals inbox</h1>
      <p aria-live="polite" className="muted">
        {pending.data ? `${list.length} pending · updates every 2 s` : 'Loading…'}
      </p>
      {notice && (
        <p role="status" className="notice">
          Decided: {notice}
        </p>
      )}
      {pending.error && (
        <p role="alert" className="error">
          {pending.error}
        </p>
      )}
      {list.length === 0 && pending.data && <p>Nothing waits for a decision.</p>}
      {list.map((a) => (
        <ApprovalCard
          key={a.approvalId}
          api={props.api}
          a={a}
          onDecided={(msg) => {
            setNotice(msg);
            pending.reload();
          }}
        />
      ))}
      <h2>Recently decided</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col">Run</th>
            <th scope="col">Decision</th>
            <th scope="col">By</th>
            <th scope="col">Comment</th>
          </tr>
        </thead>
        <tbody>
          {(decided.data ?? []).map((a) => (
            <tr key={a.approvalId}>
              <td>{a.tool}</td>
              <td>
                <a href={`#/runs/${a.runId}`}>{a.runId}</a>
              </td>
              <td>
                <span className={`badge status-${a.status}`}>{a.status}</span>
              </td>
              <td>{a.approver ?? '–'}</td>
              <td>{a.comment ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
