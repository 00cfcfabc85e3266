/**
 * The web console's static files (`console/dist`) at `/`, with the single-page-app fallback to
 * index.html. Paths are resolved inside the directory only.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { Hono } from 'hono';
import { HttpError } from './errors.ts';
import type { GatewayEnv } from './context.ts';
import { CONSOLE_CSP } from './security-headers.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A request path as a file path; a malformed percent-escape is the client's error (400), not ours. */
function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new HttpError(400, 'bad_request', 'path: malformed percent-encoding', {
      details: { field: 'path' },
    });
  }
}

/** Serve `dir` at `/` when it holds an index.html; does nothing otherwise. */
export function serveConsole(app: Hono<GatewayEnv>, dir: string): boolean {
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html'))) return false;
  app.get('/*', async (c, next) => {
    const wanted = resolve(root, '.' + decodePath(c.req.path));
    const inside = wanted === root || wanted.startsWith(root + sep);
    let file = inside ? wanted : null;
    if (
      file &&
      !(await stat(file).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      file = null;
    // Client-side routes (no extension) get the app shell; missing assets stay 404.
    if (!file && extname(c.req.path) === '') file = join(root, 'index.html');
    if (!file) return next();
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const cache = file.endsWith('index.html') ? 'no-cache' : 'public, max-age=3600';
    return c.body(await readFile(file), 200, {
      'Content-Type': type,
      'Cache-Control': cache,
      'Content-Security-Policy': CONSOLE_CSP,
    });
  });
  return true;
}
