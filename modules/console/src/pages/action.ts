import { callerLine, callerText, displayLine, keyText, valueLine } from '@countersign/contracts';
import { callerWords, containsHiddenCharacters, containsLookalikeLetters, MARKED_CHARACTERS_WARNING, type ActionView } from '@countersign/core';
import { formValue, html, when, type Html } from '../html.ts';
import { titleOf, riskBadge } from './inbox.ts';
import { layout, type Viewer } from './layout.ts';

/** A refused vote, shown where it happened: next to the field, or above the buttons. */
export interface VoteProblem {
  code: string;
  message: string;
  /** Field-precise issues (the API's `errors`). */
  fields: { field: string; message: string }[];
  /** What the reviewer typed, kept so nothing they wrote is lost. */
  reason?: string;
}

function kv(rows: [string, Html | string | null | undefined][]): Html {
  const shown = rows.filter(([, v]) => v !== null && v !== undefined && v !== '');
  if (shown.length === 0) return html`<p class="muted">None given.</p>`;
  return html`<dl class="kv">${shown.map(([k, v]) => html`<dt>${k}</dt><dd>${v!}</dd>`)}</dl>`;
}

const REDACTED_MARK = html`<span class="redacted">[redacted]</span>`;

/**
 * A caller's value on one line, every hidden character a mark, and the look-alike letters of a
 * word mixing them with Latin ones ("⟨U+0440⟩rod"), as on the cards. A value whose type the
 * caller chose (a param, the attributes) is JSON, text quoted, so the text "false" never looks
 * like the boolean false (valueLine); a field the schema makes text (environment, account, …) is
 * shown as written (callerLine). A value the rule redacts is the mark, never caller text.
 */
function value(v: unknown, opts: { hidden: boolean; free: boolean }): Html {
  if (opts.hidden) return REDACTED_MARK;
  return html`<code>${opts.free || typeof v !== 'string' || v === '[redacted]' ? valueLine(v) : callerLine(v)}</code>`;
}

/**
 * Every key with its value, as the engine approves it and the release token binds it: an empty
 * list or object is a value too (an empty exclusion list, an options object that switches on
 * defaults), shown as `[]` or `{}`, never left out. The only thing not listed is a section's
 * `attributes` when empty: the SDK's normalisation puts `attributes: {}` in every intent's
 * `context` and `authority`, sent or not, so it tells the approver nothing.
 */
function entries(
  obj: Record<string, unknown> | undefined,
  opts: { path: 'params' | 'context' | 'authority'; redacted: readonly string[] },
): [string, Html][] {
  const section = opts.path !== 'params';
  return Object.entries(obj ?? {})
    .filter(([k, v]) => v !== undefined && !(section && k === 'attributes' && isEmptyRecord(v)))
    // Hidden only where the rule redacted the path and the copy holds the mark: a flat key
    // spelt like a redacted nested path is the caller's own value.
    .map(([k, v]) => [keyText(k), value(v, { hidden: v === '[redacted]' && opts.redacted.includes(`${opts.path}.${k}`), free: !section || k === 'attributes' })]);
}

function isEmptyRecord(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

/**
 * A person's words (a vote's, deny, cancel or override reason), or a timeline line holding them:
 * one line, hidden characters marked, look-alike letters not (no downstream acts on them).
 */
function line(text: string | null | undefined): string | null {
  return text === null || text === undefined ? null : displayLine(text);
}

/** The caller's own text (onBehalfOf, resource, summary): one line, look-alike letters marked too. */
function callerField(text: string | null | undefined): string | null {
  return text === null || text === undefined ? null : callerLine(text);
}

/**
 * Said under the heading when anything shown on the page is marked: a hidden character anywhere,
 * or a look-alike letter in the caller's words (the intent, onBehalfOf), the only text whose
 * look-alikes the page marks.
 */
function markedWarning(a: ActionView): Html {
  const shown = [a.intent, a.requester, a.reasons, a.decisionReason, a.override, a.votes?.map((v) => v.reason), a.timeline?.map((t) => t.text)];
  if (!containsHiddenCharacters(shown) && !containsLookalikeLetters(callerWords(a.intent, a.requester.onBehalfOf))) return html``;
  return html`<p class="refusal hidden-chars" role="alert">${MARKED_CHARACTERS_WARNING}</p>`;
}

function statusBadge(status: string): Html {
  return html`<span class="badge status-${status}">${status}</span>`;
}

function decideForm(a: ActionView, viewer: Viewer, problem?: VoteProblem): Html {
  if (a.status !== 'pending') return html``;
  const reasonIssue = problem?.fields.find((f) => f.field === 'reason');
  const decisionIssue = problem?.fields.find((f) => f.field === 'decision');
  const general = problem && !reasonIssue ? problem : undefined;
  const canDecide = a.canStillDecide?.includes(viewer.personId) ?? false;
  return html`<section aria-labelledby="decide-title" class="card">
<h2 id="decide-title">Your decision</h2>
${!canDecide && !problem ? html`<p class="muted" id="cannot-decide">By the vote's own checks you cannot fill an open slot of this action (your own request or an agent you own, no role it needs, a slot already yours, or a vote already cast). The engine will say exactly why if you try.</p>` : ''}
<form method="post" action="/console/actions/${a.id}/vote" novalidate>
  <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
  <label for="reason">Reason <span class="muted">(required to deny${a.requirement?.approvalReasonRequired ? ' and to approve' : ''})</span></label>
  <textarea id="reason" name="reason" rows="3" maxlength="2000"${reasonIssue ? html` aria-invalid="true" aria-describedby="reason-error"` : ''}>${formValue(problem?.reason ?? '')}</textarea>
  ${reasonIssue ? html`<p id="reason-error" class="field-error" role="alert"><code>${problem!.code}</code> ${reasonIssue.message}: ${problem!.message}</p>` : ''}
  ${general ? html`<div id="vote-error" class="refusal" role="alert"><strong>Your vote was refused: <code>${general.code}</code></strong><p>${general.message}</p>${decisionIssue ? html`<p>decision: ${decisionIssue.message}</p>` : ''}</div>` : ''}
  <div class="buttons">
    <button type="submit" name="decision" value="approve" class="approve">Approve</button>
    <button type="submit" name="decision" value="deny" class="deny">Deny</button>
  </div>
  <p class="muted">Your vote goes through the engine with every check (channel <code>web</code>); cards in Slack and Teams update as for any vote.</p>
</form>
</section>`;
}

export function actionPage(a: ActionView, viewer: Viewer, opts: { problem?: VoteProblem; notice?: string } = {}): string {
  const intent = a.intent;
  const title = titleOf({ summary: intent?.action.summary ?? null, actionType: a.actionType, resource: intent?.action.resource ?? null });
  const p = a.progress;
  const redacted = a.redacted ?? [];
  return layout({
    title,
    viewer,
    scripts: ['verify.js'],
    body: html`<p><a href="/console">← Inbox</a></p>
<h1>${title} ${statusBadge(a.status)}</h1>
<p class="muted"><code>${a.id}</code> · submitted ${when(a.createdAt)}${a.expiresAt && a.status === 'pending' ? html` · expires ${when(a.expiresAt)}` : ''}</p>
${markedWarning(a)}
${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : ''}
<div class="grid">
<section aria-labelledby="who-title" class="card"><h2 id="who-title">Who</h2>
${kv([
  ['Requested by', `${a.requester.id} (${a.requester.kind})`],
  ['On behalf of', callerField(a.requester.onBehalfOf)],
  ["Agent's owner", a.requester.owner],
])}</section>
<section aria-labelledby="what-title" class="card"><h2 id="what-title">What</h2>
${intent
  ? html`${kv([
      ['Type', html`<code>${intent.action.type}</code>`],
      ['Resource', intent.action.resource ? html`<code>${callerLine(intent.action.resource)}</code>` : null],
      ['Summary', callerField(intent.action.summary)],
      ...entries(intent.action.params as Record<string, unknown>, { path: 'params', redacted }).map(([k, v]) => [`param ${k}`, v] as [string, Html]),
      ...entries(intent.context as Record<string, unknown>, { path: 'context', redacted }).map(([k, v]) => [k, v] as [string, Html]),
      ['Risk', riskBadge({ class: intent.risk.class ?? null, urgency: intent.risk.urgency ?? null })],
      ...entries(intent.authority as Record<string, unknown>, { path: 'authority', redacted }).map(([k, v]) => [`authority ${k}`, v] as [string, Html]),
      // The agent's words, several lines kept (render's displayText marks hidden characters),
      // look-alike letters of mixed words marked as in its one-line fields.
      ['Justification', redacted.includes('justification') ? REDACTED_MARK : intent.justification === undefined ? null : callerText(intent.justification)],
    ])}
    ${redacted.length ? html`<p class="muted">Hidden by the rule's <code>redact</code>: ${redacted.join(', ')}.</p>` : ''}
    <p class="muted">Intent hash <code class="hash">${a.intentHash}</code></p>`
  : html`<p class="muted">Not available.</p>`}
</section>
<section aria-labelledby="why-title" class="card"><h2 id="why-title">Why</h2>
${kv([
  ['Policy said', a.verdict],
  ['Rules', html`${a.ruleIds.map((r) => html`<code>${r}</code> `)}`],
  ['Reasons', html`<ul>${a.reasons.map((r) => html`<li>${r}</li>`)}</ul>`],
  ['Policy digest', html`<code class="hash">${a.policyDigest}</code>`],
  ['Decided', a.decidedAt ? html`${a.status} ${when(a.decidedAt)}${a.decidedBy ? ` by ${a.decidedBy}` : ''}` : null],
  ['Decision reason', line(a.decisionReason)],
  ['Override', a.override ? `${a.override.by}: ${line(a.override.reason)}` : null],
])}</section>
${a.requirement && p
  ? html`<section aria-labelledby="req-title" class="card"><h2 id="req-title">Requirement</h2>
<p><strong>${p.filled} of ${p.needed}</strong> approvals: ${a.requirement.groups.map((g) => `${g.count} × ${g.role}`).join(' + ')}, each slot by a different person.</p>
<table class="small"><caption class="sr-only">Filled slots</caption><thead><tr><th scope="col">Slot</th><th scope="col">Filled by</th></tr></thead><tbody>
${p.approvals.map((x) => html`<tr><td>${x.role}</td><td>${x.personId}</td></tr>`)}
${p.open.map((o) => html`<tr><td>${o.role}${o.count > 1 ? ` × ${o.count}` : ''}</td><td class="muted">open</td></tr>`)}
</tbody></table>
${a.status === 'pending' ? html`<p>Who can still fill it: ${a.canStillDecide?.length ? a.canStillDecide.join(', ') : html`<span class="muted">nobody in the directory</span>`}</p>` : ''}
</section>`
  : ''}
</div>
${decideForm(a, viewer, opts.problem)}
<section aria-labelledby="votes-title"><h2 id="votes-title">Votes</h2>
${a.votes?.length
  ? html`<table class="list"><thead><tr><th scope="col">Person</th><th scope="col">Decision</th><th scope="col">Reason</th><th scope="col">Channel</th><th scope="col">At</th></tr></thead><tbody>
${a.votes.map((v) => html`<tr><td>${v.personId}</td><td>${v.decision}</td><td>${line(v.reason) ?? ''}</td><td>${v.channel}</td><td>${when(v.at)}</td></tr>`)}
</tbody></table>`
  : html`<p class="muted">No votes yet.</p>`}
</section>
<section aria-labelledby="timeline-title"><h2 id="timeline-title">Timeline</h2>
<ol class="timeline">${(a.timeline ?? []).map((t) => html`<li>${when(t.at)} <span class="kind">${t.kind}</span> ${line(t.text)}${t.seq !== undefined ? html` <a class="seq" href="#artifact-${t.seq}">artifact #${t.seq}</a>` : ''}</li>`)}</ol>
</section>
<section aria-labelledby="evidence-title" id="evidence" data-action="${a.id}"><h2 id="evidence-title">Evidence</h2>
<p>Each step above marked with an artifact is sealed: RFC 8785 canonical JSON, its SHA-256, a link to the previous artifact's hash and an Ed25519 signature. <strong>Verify</strong> checks them here, in your browser, against <a href="/.well-known/jwks.json">the published keys</a>.</p>
<button type="button" id="verify" disabled>Verify</button>
<noscript><p>Verify runs in the browser and needs JavaScript; offline: <code>countersign verify</code> on an export.</p></noscript>
<div id="verify-result" role="status" aria-live="polite"></div>
</section>`,
  });
}
