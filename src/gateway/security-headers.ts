/**
 * Browser-facing hardening headers. The console (console/dist, a Vite build) loads one module
 * script and one stylesheet from its own origin, talks to `/v1` over fetch and WebSocket on the
 * same origin, and uses a `data:` favicon; React sets inline styles through the CSSOM, which
 * `style-src 'self'` allows. So the policy needs no 'unsafe-inline' and no hashes.
 */

/** The console's Content-Security-Policy. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  // 'self' covers ws:/wss: to the same host (CSP Level 3).
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** What an API answer (JSON, SSE) may do if a browser renders it: nothing. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Sent with every answer of the public listener. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};
