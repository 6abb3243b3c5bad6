import { html, type Html } from '../html.ts';

export interface Viewer {
  personId: string;
  name: string;
  roles: string[];
  csrfToken: string;
  auditor: boolean;
}

const NAV = [
  { href: '/console', label: 'Inbox', key: 'inbox' },
  { href: '/console/history', label: 'History', key: 'history' },
  { href: '/console/policy', label: 'Policy', key: 'policy' },
] as const;

/** The page shell: skip link, navigation, who is signed in, logout (a POST with the CSRF token). */
export function layout(opts: { title: string; viewer?: Viewer; active?: string; body: Html; scripts?: string[] }): string {
  const v = opts.viewer;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · countersign</title>
<link rel="stylesheet" href="/console/assets/console.css">
<link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml">
${v ? html`<meta name="csrf-token" content="${v.csrfToken}">` : ''}
${(opts.scripts ?? []).map((s) => html`<script type="module" src="/console/assets/${s}"></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">countersign</span>
  ${v
    ? html`<nav aria-label="Console"><ul>${NAV.map((n) => html`<li><a href="${n.href}"${n.key === opts.active ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}</ul></nav>
  <form class="who" method="post" action="/console/logout">
    <span>Signed in as <strong>${v.name}</strong> (${v.personId})</span>
    <input type="hidden" name="_csrf" value="${v.csrfToken}">
    <button type="submit" class="link">Sign out</button>
  </form>`
    : ''}
</header>
<main id="main" tabindex="-1">
${opts.body}
</main>
</body>
</html>`.text;
}

/** A full page with one message (sign-in refused, not found, session ended…). */
export function messagePage(opts: { title: string; message: string; detail?: string; code?: string; viewer?: Viewer; action?: { href: string; label: string } }): string {
  return layout({
    title: opts.title,
    ...(opts.viewer ? { viewer: opts.viewer } : {}),
    body: html`<section class="message" aria-labelledby="msg-title">
  <h1 id="msg-title">${opts.title}</h1>
  <p role="alert">${opts.message}</p>
  ${opts.detail ? html`<p>${opts.detail}</p>` : ''}
  ${opts.code ? html`<p class="code">Problem code: <code>${opts.code}</code></p>` : ''}
  ${opts.action ? html`<p><a class="button" href="${opts.action.href}">${opts.action.label}</a></p>` : ''}
</section>`,
  });
}
