/**
 * Chat: send messages as the signed-in user over the WebSocket API and watch the run's plain-language
 * milestones arrive, then its answer.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { Api, JournalEvent } from '../api.ts';

interface Line {
  id: string;
  who: 'you' | 'system' | 'agent';
  text: string;
  runId?: string;
}

type Frame =
  | { type: 'accepted'; runId: string; id?: string }
  | { type: 'event'; runId: string; event: JournalEvent }
  | { type: 'error'; code: string; message: string }
  | { type: string };

/** What a user is told about an event, or null for engineering detail they need not see. */
function milestone(e: JournalEvent): { who: Line['who']; text: string } | null {
  switch (e.type) {
    case 'route.decided':
      return { who: 'system', text: `Handed to ${e.data.agent}` };
    case 'route.escalated':
    case 'run.escalated':
      return { who: 'system', text: 'Handed to a person: nobody here is sure how to help with that.' };
    case 'progress':
      return { who: 'system', text: e.data.message };
    case 'approval.requested':
      return { who: 'system', text: `Waiting for an approver (${e.data.tool})` };
    case 'approval.decided':
      return { who: 'system', text: `Approval ${e.data.decision}` };
    case 'run.completed':
      return { who: 'agent', text: e.data.output };
    case 'run.failed':
      return { who: 'system', text: `Sorry, that failed: ${e.data.error.message}` };
    case 'run.cancelled':
      return { who: 'system', text: 'Cancelled.' };
    default:
      return null;
  }
}

export function ChatPage(props: { api: Api }) {
  const [lines, setLines] = useState<Line[]>([]);
  const [text, setText] = useState('');
  const [state, setState] = useState<'connecting' | 'open' | 'closed'>('connecting');
  const [session] = useState(
    () => sessionStorage.getItem('switchboard.chat') ?? `console-${crypto.randomUUID()}`,
  );
  const ws = useRef<WebSocket | null>(null);
  const seen = useRef(new Set<string>());

  useEffect(() => {
    sessionStorage.setItem('switchboard.chat', session);
    let closed = false;
    let socket: WebSocket | null = null;
    props.api.socket().then(
      (s) => {
        if (closed) return s.close();
        socket = s;
        ws.current = s;
        s.onopen = () => setState('open');
        s.onclose = () => setState('closed');
        s.onmessage = (m: MessageEvent<string>) => {
          const f = JSON.parse(m.data) as Frame;
          if (f.type === 'error' && 'message' in f) {
            setLines((l) => [...l, { id: crypto.randomUUID(), who: 'system', text: `Error: ${f.message}` }]);
          }
          if (f.type !== 'event' || !('event' in f)) return;
          const key = `${f.runId}:${f.event.seq}`;
          if (seen.current.has(key)) return;
          seen.current.add(key);
          const said = milestone(f.event);
          if (said) setLines((l) => [...l, { id: key, ...said, runId: f.runId }]);
        };
      },
      () => setState('closed'),
    );
    return () => {
      closed = true;
      socket?.close();
      ws.current = null;
    };
  }, [props.api, session]);

  const send = (ev: FormEvent): void => {
    ev.preventDefault();
    const message = text.trim();
    if (!message || ws.current?.readyState !== WebSocket.OPEN) return;
    ws.current.send(
      JSON.stringify({
        action: 'sendMessage',
        sessionId: session,
        text: message,
        clientMessageId: crypto.randomUUID(),
      }),
    );
    setLines((l) => [...l, { id: crypto.randomUUID(), who: 'you', text: message }]);
    setText('');
  };

  return (
    <section aria-labelledby="chat-h" className="chat">
      <h1 id="chat-h">Chat</h1>
      <p className="muted">
        Session <span className="mono">{session}</span> · {state === 'open' ? 'connected' : state}
      </p>
      <ol className="messages" aria-live="polite" aria-label="Conversation">
        {lines.map((l) => (
          <li key={l.id} className={`msg msg-${l.who}`}>
            <span className="who">{l.who === 'you' ? 'You' : l.who === 'agent' ? 'Agent' : '…'}</span>{' '}
            {l.text}
            {l.runId && l.who === 'agent' && (
              <>
                {' '}
                <a href={`#/runs/${l.runId}`}>trace</a>
              </>
            )}
          </li>
        ))}
      </ol>
      <form onSubmit={send} className="composer">
        <label htmlFor="chat-input">Message</label>
        <input
          id="chat-input"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="Where is my order ORD-10042?"
          autoComplete="off"
        />
        <button type="submit" disabled={state !== 'open'}>
          Send
        </button>
      </form>
    </section>
  );
}
