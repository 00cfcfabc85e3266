/** Small React hooks: polling a loader while the page is open. */
import { useEffect, useRef, useState } from 'react';

/**
 * Load now and every `everyMs` (0: once), keeping the last good value; `deps` restart it.
 * A slow load is never overlapped by the next tick.
 */
export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  everyMs: number,
  deps: readonly unknown[],
): { data: T | undefined; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      try {
        const value = await loadRef.current(ctl.signal);
        if (ctl.signal.aborted) return;
        setData(value);
        setError(null);
      } catch (e) {
        if (ctl.signal.aborted) return;
        setError(e instanceof Error ? e.message : String(e));
      }
      if (everyMs > 0 && !ctl.signal.aborted) timer = setTimeout(() => void run(), everyMs);
    };
    void run();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [...deps, tick, everyMs]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}
