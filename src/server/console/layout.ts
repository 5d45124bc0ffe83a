/**
 * The page frame and small view helpers. Pages are server-rendered with hono/html tagged templates
 * (every interpolated value is escaped); the only script is /console/assets/console.js, so the
 * Content-Security-Policy allows no inline script or style.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { formatBytes } from '../../core/sizes.ts';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

export interface Viewer {
  account: string;
  admin: boolean;
  csrf: string;
}

export type Section = 'buckets' | 'usage' | 'users' | 'mesh' | 'sign-in';

export function page(title: string, viewer: Viewer | undefined, section: Section, body: Html): Html {
  const link = (href: string, label: string, s: Section) =>
    html`<a href="${href}"${section === s ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${viewer ? html`<meta name="csrf-token" content="${viewer.csrf}">` : ''}
<title>${title} · datamesh console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/console/">datamesh</a>
  ${viewer
    ? html`<nav aria-label="Console">
    ${link('/console/buckets', 'Buckets', 'buckets')}
    ${link('/console/usage', 'Usage', 'usage')}
    ${viewer.admin ? html`${link('/console/admin/users', 'Users', 'users')} ${link('/console/admin/mesh', 'Mesh', 'mesh')}` : ''}
  </nav>
  <form class="who" method="post" action="/console/sign-out">
    <span>Signed in as <strong>${viewer.account}</strong>${viewer.admin ? ' (admin)' : ''}</span>
    ${csrfField(viewer)}
    <button type="submit" class="secondary">Sign out</button>
  </form>`
    : ''}
</header>
<main id="main">
${body}
</main>
</body>
</html>`;
}

export const csrfField = (v: Viewer): Html => html`<input type="hidden" name="csrf" value="${v.csrf}">`;

/** A notice or an error at the top of a page (role status / alert, so a screen reader says it). */
export function notice(text: string | undefined, kind: 'ok' | 'error' = 'ok'): Html {
  if (!text) return html``;
  return kind === 'error' ? html`<p class="notice error" role="alert">${text}</p>` : html`<p class="notice ok" role="status">${text}</p>`;
}

export const bytes = (n: number): string => formatBytes(n);
/** "1 key", "2 keys". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** A horizontal bar of used against limit, as inline SVG (attributes, not inline styles). */
export function bar(label: string, used: number, limit: number | null, format: (n: number) => string, fullIsGood = false): Html {
  const ratio = limit === null || limit <= 0 ? 0 : Math.min(1, used / limit);
  const text = limit === null ? `${format(used)} (no limit)` : `${format(used)} of ${format(limit)} (${Math.round(ratio * 100)}%)`;
  const tone = fullIsGood ? 'bar-good' : ratio >= 0.9 ? 'bar-full' : ratio >= 0.7 ? 'bar-high' : 'bar-ok';
  return html`<div class="meter">
  <div class="meter-label"><span>${label}</span><span>${text}</span></div>
  <svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label="${label}: ${text}">
    <rect class="bar-track" x="0" y="0" width="100" height="6" rx="1"></rect>
    ${limit === null ? '' : html`<rect class="${tone}" x="0" y="0" width="${(ratio * 100).toFixed(2)}" height="6" rx="1"></rect>`}
  </svg>
</div>`;
}

/** A vertical bar chart, inline SVG rendered here: one bar per label. */
export function chart(title: string, points: { label: string; value: number }[], format: (n: number) => string): Html {
  const w = 640;
  const h = 200;
  const pad = { l: 8, r: 8, t: 24, b: 28 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const slot = (w - pad.l - pad.r) / Math.max(1, points.length);
  const bw = Math.max(4, slot * 0.6);
  const plot = h - pad.t - pad.b;
  return html`<figure class="chart">
  <svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${title}">
    <title>${title}</title>
    <line class="axis" x1="${pad.l}" y1="${h - pad.b}" x2="${w - pad.r}" y2="${h - pad.b}"></line>
    ${points.map((p, i) => {
      const bh = (p.value / max) * plot;
      const x = pad.l + i * slot + (slot - bw) / 2;
      return html`<g>
      <rect class="col" x="${x.toFixed(1)}" y="${(h - pad.b - bh).toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}"><title>${p.label}: ${format(p.value)}</title></rect>
      <text x="${(x + bw / 2).toFixed(1)}" y="${h - pad.b + 16}" text-anchor="middle">${p.label}</text>
      <text x="${(x + bw / 2).toFixed(1)}" y="${(h - pad.b - bh - 6).toFixed(1)}" text-anchor="middle" class="val">${format(p.value)}</text>
    </g>`;
    })}
  </svg>
  <figcaption>${title}</figcaption>
</figure>`;
}
