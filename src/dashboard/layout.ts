/** The page frame shared by every dashboard page, and the security headers every page is sent with. */
import { createHash } from 'node:crypto';
import { ASSET_PREFIX, IMPORT_MAP } from './assets.js';
import { html, trusted, type SafeHtml } from './html.js';

/** What the frame needs besides the page body. */
export interface LayoutOptions {
  title: string;
  taskHub: string;
  /** Which nav entry is current. */
  section: 'instances' | 'entities' | 'schedules' | 'login';
  /** Shows the sign-out button (an API key is configured). */
  signedIn?: boolean;
}

const IMPORT_MAP_HASH = createHash('sha256').update(IMPORT_MAP, 'utf8').digest('base64');

/**
 * Content-Security-Policy of every page: scripts only from our own origin (plus the one inline import map,
 * by hash), no inline styles or handlers. Even if some user data escaped escaping, it could not run.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  `script-src 'self' 'sha256-${IMPORT_MAP_HASH}'`,
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** Headers of every HTML page. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** Wraps a page body in the frame. */
export function layout(options: LayoutOptions, body: SafeHtml): SafeHtml {
  const nav = (section: LayoutOptions['section'], href: string, label: string) =>
    html`<a href="${href}" class="${options.section === section ? 'current' : ''}">${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · duraflow</title>
<link rel="icon" href="${ASSET_PREFIX}favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${ASSET_PREFIX}dashboard.css">
<script type="importmap">${trusted(IMPORT_MAP)}</script>
<script type="module" src="${ASSET_PREFIX}islands.js"></script>
</head>
<body>
<header class="topbar">
  <a class="brand" href="/dashboard"><span class="logo">◆</span> duraflow</a>
  <nav>${options.section === 'login' ? '' : [nav('instances', '/dashboard', 'Instances'), nav('entities', '/dashboard/entities', 'Entities'), nav('schedules', '/dashboard/schedules', 'Schedules')]}</nav>
  <span class="spacer"></span>
  <span class="hub" title="task hub">hub: <code>${options.taskHub}</code></span>
  ${options.signedIn ? html`<form method="post" action="/dashboard/logout" class="logout"><button type="submit" class="link">Sign out</button></form>` : ''}
</header>
<main>
${body}
</main>
<div id="toast-root"></div>
</body>
</html>
`;
}

/** A status badge; `data-status` lets the islands read the current status after a refresh. */
export function statusBadge(status: string): SafeHtml {
  return html`<span class="badge status-${status.toLowerCase()}" data-status="${status}">${status}</span>`;
}

/** A link to an instance page (ids may hold any character; they are encoded into the path). */
export function instanceHref(instanceId: string): string {
  return `/dashboard/instances/${encodeURIComponent(instanceId)}`;
}

/** An instance's tags as `key=value` chips, each a link (`href`) to the list filtered by that tag too. */
export function tagChips(tags: Readonly<Record<string, string>> | undefined, href: (key: string, value: string) => string): SafeHtml {
  return html`${Object.entries(tags ?? {}).map(
    ([key, value]) => html`<a class="tag" href="${href(key, value)}" data-tag="${key}" title="Show instances tagged ${key}=${value}">${key}=${value}</a> `,
  )}`;
}
