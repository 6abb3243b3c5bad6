import { ActionFilterQuerySchema, callerLine } from '@countersign/contracts';
import type { ActionSummary } from '@countersign/core';
import { formValue, html, when, type Html } from '../html.ts';
import { markedFlag, riskBadge, titleOf } from './inbox.ts';
import { layout, type Viewer } from './layout.ts';

export interface FormProblem {
  code: string;
  message: string;
  fields: { field: string; message: string }[];
}

const FIELDS: { name: string; label: string; type?: string; hint?: string }[] = [
  { name: 'status', label: 'Status', hint: 'pending, approved, refused, expired, cancelled (comma-separated)' },
  { name: 'actionType', label: 'Action type', hint: 'e.g. environment.delete' },
  { name: 'resource', label: 'Resource starts with' },
  { name: 'requester', label: 'Requested by' },
  { name: 'onBehalfOf', label: 'On behalf of' },
  { name: 'decidedBy', label: 'Decided by' },
  { name: 'voter', label: 'Voter' },
  { name: 'ruleId', label: 'Rule id' },
  { name: 'riskClass', label: 'Risk class' },
  { name: 'environment', label: 'Environment' },
  { name: 'submittedFrom', label: 'Submitted from', type: 'date' },
  { name: 'submittedTo', label: 'Submitted before', type: 'date' },
  { name: 'decidedFrom', label: 'Decided from', type: 'date' },
  { name: 'decidedTo', label: 'Decided before', type: 'date' },
];

function field(f: (typeof FIELDS)[number], values: Record<string, string>, problem?: FormProblem): Html {
  const issue = problem?.fields.find((i) => i.field === f.name || i.field.startsWith(`${f.name}.`));
  const describedBy = [f.hint ? `${f.name}-hint` : '', issue ? `${f.name}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
  <label for="f-${f.name}">${f.label}</label>
  <input id="f-${f.name}" name="${f.name}" type="${f.type ?? 'text'}" value="${formValue(values[f.name] ?? '')}"${describedBy ? html` aria-describedby="${describedBy}"` : ''}${issue ? html` aria-invalid="true"` : ''}>
  ${f.hint ? html`<small id="${f.name}-hint" class="muted">${f.hint}</small>` : ''}
  ${issue ? html`<p id="${f.name}-error" class="field-error" role="alert"><code>${problem!.code}</code> ${issue.message}</p>` : ''}
</div>`;
}

export function historyPage(opts: {
  viewer: Viewer;
  values: Record<string, string>;
  items: ActionSummary[];
  nextCursor: string | null;
  problem?: FormProblem;
}): string {
  const { viewer, values, problem } = opts;
  const query = new URLSearchParams(Object.entries(values).filter(([k, v]) => v !== '' && k !== 'cursor')).toString();
  const general = problem && problem.fields.length === 0 ? problem : undefined;
  // The export takes the list's filters (not its page: cursor, limit): a selection of those actions.
  const filters = new URLSearchParams(Object.entries(values).filter(([k, v]) => v !== '' && k in ActionFilterQuerySchema.shape)).toString();
  const exportQuery = filters ? `${filters}&` : '';
  return layout({
    title: 'History',
    viewer,
    active: 'history',
    body: html`<h1>History</h1>
<p class="lede">${viewer.auditor ? 'As an auditor you see every action; intents are redacted as their approvers see them unless your role allows more.' : 'The actions you may read: yours, those on your behalf or of your agents, and those you could decide.'}</p>
<form method="get" action="/console/history" class="filters" aria-labelledby="filters-title">
  <h2 id="filters-title" class="sr-only">Filters</h2>
  <div class="fields">${FIELDS.map((f) => field(f, values, problem))}</div>
  ${general ? html`<p class="refusal" role="alert"><code>${general.code}</code> ${general.message}</p>` : ''}
  <div class="buttons"><button type="submit">Search</button> <a href="/console/history">Clear</a></div>
</form>
${viewer.auditor
  ? html`<section class="downloads" aria-labelledby="dl-title"><h2 id="dl-title">Export with evidence</h2>
  <p>${exportQuery ? 'The signed evidence of the actions matching the filters above; its signed trailer names the filters and counts and digests the records, so <code>countersign verify</code> proves none was removed or added:' : 'The whole signed evidence chain, which <code>countersign verify</code> proves complete:'}
  <a href="/console/history/export?${exportQuery}format=jsonl" download>JSONL</a> ·
  <a href="/console/history/export?${exportQuery}format=csv" download>CSV</a></p></section>`
  : ''}
<table class="list">
  <caption class="sr-only">Actions matching the filters, newest first</caption>
  <thead><tr><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Requested by</th><th scope="col">Risk</th><th scope="col">Submitted</th><th scope="col">Decided</th></tr></thead>
  <tbody>
  ${opts.items.length === 0 ? html`<tr><td colspan="6" class="empty">No actions match.</td></tr>` : ''}
  ${opts.items.map(
    (a) => html`<tr><th scope="row"><a href="/console/actions/${a.id}">${titleOf(a)}</a>${markedFlag(a)}<br><small><code>${a.actionType}</code></small></th>
    <td><span class="badge status-${a.status}">${a.status}</span></td>
    <td>${a.requester.id}${a.requester.onBehalfOf ? ` for ${callerLine(a.requester.onBehalfOf)}` : ''}</td>
    <td>${riskBadge(a.risk)}</td><td>${when(a.createdAt)}</td><td>${a.decidedAt ? html`${when(a.decidedAt)}${a.decidedBy ? ` by ${a.decidedBy}` : ''}` : ''}</td></tr>`,
  )}
  </tbody>
</table>
${opts.nextCursor ? html`<p><a href="/console/history?${query ? `${query}&` : ''}cursor=${encodeURIComponent(opts.nextCursor)}">Next page →</a></p>` : ''}`,
  });
}
