/**
 * This package's own package.json: the nearest one above this module with the `switchboard` bin
 * (one level above src/ in the checkout; above dist/src/ or dist/src/chunks/ in the built package).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
}

let cached: { info: PackageInfo; root: string } | null = null;

function find(): { info: PackageInfo; root: string } {
  if (cached) return cached;
  for (const up of ['../package.json', '../../package.json', '../../../package.json']) {
    const url = new URL(up, import.meta.url);
    if (!existsSync(url)) continue;
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as PackageInfo & { bin?: Record<string, string> };
    if (pkg.bin?.switchboard) return (cached = { info: pkg, root: dirname(fileURLToPath(url)) });
  }
  throw new Error('cannot find the package.json of the switchboard command');
}

export const packageInfo = (): PackageInfo => find().info;

/** The directory of this package (the checkout, or `node_modules/<name>`). */
export const packageRoot = (): string => find().root;

/** True when running from the TypeScript sources (the checkout), false in the built package. */
export const fromSources = (): boolean => import.meta.url.endsWith('.ts');
