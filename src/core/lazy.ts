/** `build` run on the first call and its result returned ever after (a schema nobody needs at import). */
export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}
