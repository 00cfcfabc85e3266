/**
 * How long-running commands (serve, gateway, worker, demo, dev) wait: until the first SIGTERM or
 * SIGINT, then they shut down gracefully (stop claiming, let in-flight steps commit or hand their
 * wake-ups back, close connections).
 */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
}
