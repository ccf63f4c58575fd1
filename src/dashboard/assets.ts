/**
 * Static files of the dashboard, served by our own server (no CDN): the dashboard's own CSS and island
 * scripts from `./assets/`, and preact, preact/hooks and htm as ES modules straight from node_modules.
 * Only names matching a strict pattern inside the assets folder, or the fixed vendor names, are served;
 * anything else — `..`, encoded slashes, backslashes — is a 404.
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** URL prefix of the assets. */
export const ASSET_PREFIX = '/dashboard/assets/';

const OWN_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

/** Vendor modules by the name they are served under (the import map in the layout points here). */
const VENDOR: Record<string, string> = {
  'vendor/preact.mjs': 'preact',
  'vendor/hooks.mjs': 'preact/hooks',
  'vendor/htm.mjs': 'htm',
};

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

const cache = new Map<string, Buffer>();

/** The browser's import map: bare specifiers of the islands → our vendor URLs. */
export const IMPORT_MAP = JSON.stringify({
  imports: Object.fromEntries(Object.entries(VENDOR).map(([file, specifier]) => [specifier, ASSET_PREFIX + file])),
});

/** The file behind an asset name, or undefined when the name is not servable. */
export function assetPath(name: string): string | undefined {
  const vendor = VENDOR[name];
  if (vendor !== undefined) return fileURLToPath(import.meta.resolve(vendor));
  if (!/^[a-z0-9-]+(\/[a-z0-9-]+)*\.(js|css|svg)$/.test(name)) return undefined;
  const path = resolve(OWN_DIR, name);
  return path.startsWith(OWN_DIR.endsWith(sep) ? OWN_DIR : OWN_DIR + sep) ? path : undefined;
}

/** Answers a request for `pathname` (the raw, still-encoded URL path), or undefined for a 404. */
export async function serveAsset(pathname: string): Promise<Response | undefined> {
  if (!pathname.startsWith(ASSET_PREFIX)) return undefined;
  const name = pathname.slice(ASSET_PREFIX.length); // not decoded: an encoded '/', '.' or '\' fails the pattern
  const path = assetPath(name);
  if (path === undefined) return undefined;
  let body = cache.get(path);
  if (!body) {
    try {
      body = await readFile(path);
    } catch {
      return undefined;
    }
    cache.set(path, body);
  }
  const ext = name.slice(name.lastIndexOf('.') + 1);
  return new Response(new Uint8Array(body), {
    headers: {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    },
  });
}
