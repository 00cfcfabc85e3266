/**
 * Schedules (operators and admins): each configured schedule with its next fire times, paused or
 * not, and its recent slots — fired with a link to the run, or skipped with the reason — plus
 * pause, resume and trigger. Everything comes from `GET /v1/schedules`.
 */
import { useState } from 'react';
import { ApiError, type Api, type ScheduleView } from '../api.ts';
import { usePoll } from '../hooks.ts';

const when = (s: ScheduleView): string =>
  s.cron !== null ? `cron ${s.cron} (${s.timezone})` : `every ${s.every ?? ''}`;

function Schedule(props: { api: Api; s: ScheduleView; onChange: () => void }) {
  const { s } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const act = async (verb: 'pause' | 'resume' | 'trigger'): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const r = await props.api.post<{ runId?: string }>(
        `/v1/schedules/${encodeURIComponent(s.name)}/${verb}`,
        {},
      );
      setNotice(
        verb === 'trigger' ? `Triggered run ${r.runId ?? ''}` : verb === 'pause' ? 'Paused' : 'Resumed',
      );
      props.onChange();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const id = `schedule-${s.name}`;
  return (
    <article className="schedule" data-schedule={s.name} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>
        {s.name}{' '}
        <span
          className={`badge ${s.paused ? 'status-waiting' : 'status-completed'}`}
          data-testid="schedule-state"
        >
          {s.paused ? 'paused' : 'active'}
        </span>
      </h2>
      <p className="muted">
        {when(s)} → {s.agent ?? 'routed'} · overlap {s.overlap} · catch-up {s.catchup}
        {s.jitterMs ? ` · jitter ${s.jitterMs} ms` : ''}
        {s.paused && s.pausedBy === 'override' ? ' · paused by an operator' : ''}
      </p>
      <p>
        Next:{' '}
        <span data-testid="schedule-next">
          {s.next.map((n) => new Date(n.fireAt).toLocaleString()).join(' · ') || '—'}
        </span>
      </p>
      <div className="actions">
        {s.paused ? (
          <button type="button" disabled={busy} onClick={() => void act('resume')}>
            Resume
          </button>
        ) : (
          <button type="button" disabled={busy} onClick={() => void act('pause')}>
            Pause
          </button>
        )}
        <button type="button" disabled={busy} onClick={() => void act('trigger')}>
          Trigger now
        </button>
      </div>
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {s.slots.length === 0 ? (
        <p className="muted">No slots yet.</p>
      ) : (
        <table aria-label={`Recent slots of ${s.name}`}>
          <thead>
            <tr>
              <th scope="col">Slot</th>
              <th scope="col">Kind</th>
              <th scope="col">Outcome</th>
              <th scope="col">Run</th>
            </tr>
          </thead>
          <tbody>
            {s.slots.map((r) => (
              <tr key={r.key} data-slot={r.key}>
                <td>{new Date(r.slot).toLocaleString()}</td>
                <td>{r.kind}</td>
                <td>
                  <span className={`badge slot-${r.status}`}>{r.status}</span>
                  {r.reason ? <span className="muted"> {r.reason}</span> : null}
                </td>
                <td>
                  {r.runId ? (
                    <>
                      <a href={`#/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</a>{' '}
                      <span className="muted">{r.runStatus ?? ''}</span>
                    </>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

export function SchedulesPage(props: { api: Api }) {
  const list = usePoll(
    (signal) => props.api.get<{ schedules: ScheduleView[] }>('/v1/schedules', signal),
    5000,
    [],
  );
  const schedules = list.data?.schedules ?? [];
  return (
    <section aria-labelledby="schedules-h">
      <h1 id="schedules-h">Schedules</h1>
      {list.error && (
        <p role="alert" className="error">
          {list.error}
        </p>
      )}
      {list.data && schedules.length === 0 && (
        <p className="muted">
          No schedules configured (<code>schedules: [...]</code> in switchboard.config.ts).
        </p>
      )}
      {schedules.map((s) => (
        <Schedule key={s.name} api={props.api} s={s} onChange={list.reload} />
      ))}
    </section>
  );
}
