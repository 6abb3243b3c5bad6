import { callerLine } from '@countersign/contracts';
import { containsHiddenCharacters, containsLookalikeLetters, MARKED_CHARACTERS_WARNING, type ActionSummary } from '@countersign/core';
import { duration, html, type Html } from '../html.ts';
import { layout, type Viewer } from './layout.ts';

/**
 * An action's title on one line, hidden characters as ⟨U+XXXX⟩ marks and so are the look-alike
 * letters of a word mixing them with Latin ones, "⟨U+0440⟩rod" (page title, rows, heading).
 */
export function titleOf(a: { summary: string | null; actionType: string; resource: string | null }): string {
  return callerLine(a.summary ?? `${a.actionType}${a.resource ? ` on ${a.resource}` : ''}`);
}

/**
 * A row's flag when what it shows of the caller's text is marked: a hidden character, or a
 * look-alike letter in what the row marks them in (the title, onBehalfOf, the risk class).
 */
export function markedFlag(a: Pick<ActionSummary, 'summary' | 'resource' | 'actionType' | 'requester' | 'risk'>): Html {
  const hidden = containsHiddenCharacters([a.summary, a.resource, a.actionType, a.requester, a.risk]);
  if (!hidden && !containsLookalikeLetters([a.summary, a.resource, a.actionType, a.requester.onBehalfOf, a.risk.class])) return html``;
  return html` <span class="badge hidden-chars" title="${MARKED_CHARACTERS_WARNING}">⚠ hidden or look-alike characters</span>`;
}

function requester(a: ActionSummary): Html {
  return html`${a.requester.id}${a.requester.kind === 'agent' ? ' (agent)' : ''}${a.requester.onBehalfOf ? html`<br><small>for ${callerLine(a.requester.onBehalfOf)}</small>` : ''}`;
}

export function riskBadge(risk: { class: string | null; urgency: string | null }): Html {
  if (!risk.class && !risk.urgency) return html`<span class="muted">—</span>`;
  return html`<span class="badge risk-${risk.urgency ?? 'normal'}">${risk.class === null ? 'unclassified' : callerLine(risk.class)}${risk.urgency ? ` · ${risk.urgency}` : ''}</span>`;
}

/** The inbox's rows: also served alone (GET /console/inbox/rows) for live updates. */
export function inboxRows(items: ActionSummary[], now: Date): Html {
  if (items.length === 0) return html`<tr><td colspan="6" class="empty">Nothing awaits your decision.</td></tr>`;
  return html`${items.map(
    (a) => html`<tr data-action="${a.id}">
  <th scope="row"><a href="/console/actions/${a.id}">${titleOf(a)}</a>${markedFlag(a)}<br><small><code>${a.actionType}</code></small></th>
  <td>${requester(a)}</td>
  <td>${riskBadge(a.risk)}</td>
  <td>${duration(now.getTime() - Date.parse(a.createdAt))}</td>
  <td>${a.expiresAt ? duration(Date.parse(a.expiresAt) - now.getTime()) : '—'}</td>
  <td>${a.progress ? `${a.progress.filled} of ${a.progress.needed}` : '—'}</td>
</tr>`,
  )}`;
}

export function inboxPage(viewer: Viewer, items: ActionSummary[], now: Date): string {
  return layout({
    title: 'Inbox',
    viewer,
    active: 'inbox',
    scripts: ['inbox.js'],
    body: html`<h1>Awaiting your decision</h1>
<p class="lede">Actions you can still approve: the same checks as a vote (not your own request, a role that fills an open slot, one slot per person).</p>
<p id="inbox-status" class="muted" role="status" aria-live="polite">Updates by itself when something changes.</p>
<table class="list">
  <caption class="sr-only">Actions awaiting your decision</caption>
  <thead><tr><th scope="col">Action</th><th scope="col">Requested by</th><th scope="col">Risk</th><th scope="col">Age</th><th scope="col">Expires in</th><th scope="col">Approvals</th></tr></thead>
  <tbody id="inbox-rows">${inboxRows(items, now)}</tbody>
</table>`,
  });
}
