import { describe, expect, it } from 'vitest';
import { hasHiddenCharacters, IntentSchema } from '@countersign/contracts';
import { buildCardModel, MARKED_CHARACTERS_WARNING, toView, type ActionRecord, type ActionSummary, type VoteRecord } from '@countersign/core';
import { escapeHtml, html } from '../src/html.ts';
import { actionPage } from '../src/pages/action.ts';
import { historyPage } from '../src/pages/history.ts';
import { inboxRows } from '../src/pages/inbox.ts';
import type { Viewer } from '../src/pages/layout.ts';
import { deniedAction, FAKE_LINE, HIDDEN_DIRECTORY, hiddenAction, hiddenVote, LOOKALIKE_REASON, LOOKALIKE_SHOWN, lookalikeAction, oneScriptAction } from '../../../packages/core/test/support/hidden-characters.ts';

// F3: the console showed what an intent hides (bidi override, zero-width, CR, ESC) verbatim in
// the action page, its <title>, the inbox and history rows; the browser then reorders or hides
// it. Every shown value now carries ⟨U+XXXX⟩ marks, the page warns, and people's reasons stay
// on one line. HTML escaping is unchanged.

const viewer: Viewer = { personId: 'bob', name: 'Bob', roles: ['sre'], csrfToken: 'csrf-1', auditor: true };

function view(a: ActionRecord, votes: VoteRecord[] = []) {
  return { ...toView(a, votes, null), intent: a.intent, timeline: [{ at: '2026-05-01T10:05:00.000Z', kind: 'vote', text: `alice approved via slack: ${FAKE_LINE}` }] } as ReturnType<typeof toView>;
}

function summary(a: ActionRecord): ActionSummary {
  return {
    id: a.id, status: a.status, verdict: a.outcome, actionType: a.actionType, resource: a.intent.action.resource ?? null, summary: a.intent.action.summary ?? null,
    requester: { kind: a.actorKind, id: a.actorId, owner: a.ownerId, onBehalfOf: a.onBehalfOf }, risk: { class: a.intent.risk.class ?? null, urgency: null },
    environment: null, ruleIds: a.ruleIds, reasons: a.reasons, progress: { filled: 0, needed: 2 }, createdAt: a.createdAt.toISOString(),
  };
}

const title = (page: string) => /<title>([^<]*)<\/title>/.exec(page)![1]!;

describe('console: hidden characters are shown as marks', () => {
  const page = actionPage(view(hiddenAction(), [hiddenVote(FAKE_LINE)]), viewer);

  it('the action page carries none of them, and marks each where it was', () => {
    expect(hasHiddenCharacters(page)).toBe(false);
    for (const shown of [
      'invoice⟨U+202E⟩fdp.exe',
      'env/pro⟨U+200B⟩d-eu-1',
      // A param is JSON (text quoted, HTML-escaped here): its controls show as JSON's escapes.
      '&quot;ok\\r\\u001b[2Kdone&quot;',
      'echo keep-staging #⟨U+202E⟩ ⟨U+2066⟩; rm -rf /prod⟨U+2069⟩ ⟨U+2066⟩#',
      'param ta⟨U+FEFF⟩rget',
      'prod⟨U+200D⟩',
      'fr⟨U+200B⟩ank',
      'line two⟨U+061C⟩',
    ]) {
      expect(page).toContain(shown);
    }
    expect(title(page)).toBe('Send invoice⟨U+202E⟩fdp.exe to the client · countersign');
  });

  it('warns under the heading', () => {
    expect(page).toContain(`<p class="refusal hidden-chars" role="alert">${escapeHtml(MARKED_CHARACTERS_WARNING)}</p>`);
    const clean = hiddenAction({ intent: IntentSchema.parse({ action: { type: 'file.send', params: { file: 'invoice.pdf' } } }), onBehalfOf: null });
    const plainPage = actionPage({ ...view(clean), timeline: [] }, viewer);
    expect(plainPage).not.toContain('hidden-chars');
    expect(plainPage).toContain('invoice.pdf');
  });

  it("keeps a person's reason on one line: in the votes table, the decision and the timeline", () => {
    expect(page).toContain('<td>runbook checked ⏎ :white_check_mark: approved by Security Sam (sam) (slack)</td>');
    expect(page).toContain('alice approved via slack: runbook checked ⏎ :white_check_mark: approved by Security Sam (sam) (slack)');
    expect(page).not.toContain('runbook checked\n');
    const denied = actionPage(view(deniedAction()), viewer);
    expect(hasHiddenCharacters(denied)).toBe(false);
    expect(denied).toContain('<dd>nope ⏎ :white_check_mark: *Approved by Bob (bob)*</dd>');
  });

  it('gives a refused vote its reason back exactly as typed (a form value is not display)', () => {
    const typed = 'checked\u200B';
    const refused = actionPage(view(hiddenAction()), viewer, { problem: { code: 'reason_required', message: 'no', fields: [], reason: typed } });
    expect(refused).toContain(`maxlength="2000">${typed}</textarea>`);
  });

  it('the inbox and history rows mark them and flag the row', () => {
    const rows = inboxRows([summary(hiddenAction())], new Date('2026-05-01T10:06:00.000Z')).text;
    expect(hasHiddenCharacters(rows)).toBe(false);
    expect(rows).toContain('Send invoice⟨U+202E⟩fdp.exe to the client</a> <span class="badge hidden-chars"');
    expect(rows).toContain('fr⟨U+200B⟩ank');
    const history = historyPage({ viewer, values: { resource: 'env/pro' }, items: [summary(hiddenAction())], nextCursor: null });
    expect(hasHiddenCharacters(history)).toBe(false);
    expect(history).toContain('Send invoice⟨U+202E⟩fdp.exe to the client</a> <span class="badge hidden-chars"');
    const cleanRow = inboxRows([{ ...summary(hiddenAction()), summary: 'Send invoice.pdf', resource: 'env/prod', requester: { kind: 'agent', id: 'send-bot', owner: null, onBehalfOf: null }, risk: { class: null, urgency: null } }], new Date()).text;
    expect(cleanRow).not.toContain('hidden-chars');
  });

  it('still escapes HTML, and marks inside it', () => {
    expect(html`<p>${'<b>x</b>\u202E'}</p>`.text).toBe('<p>&lt;b&gt;x&lt;/b&gt;⟨U+202E⟩</p>');
  });
});

describe('console: a look-alike letter in a Latin word is marked, in values as in keys', () => {
  it('the action page shows "рrod" (Cyrillic р) and prоd-db (Cyrillic о) marked, HTML-escaped as any value', () => {
    const page = actionPage({ ...view(lookalikeAction()), timeline: [] }, viewer);
    for (const shown of Object.values(LOOKALIKE_SHOWN)) expect(page).toContain(escapeHtml(shown));
    expect(page).toContain('<dt>param target</dt><dd><code>&quot;⟨U+0440⟩rod&quot;</code></dd>');
    expect(page).toContain('<dt>Resource</dt><dd><code>pr⟨U+043E⟩d-db</code></dd>');
    expect(title(page)).toBe(`${LOOKALIKE_SHOWN.summary} · countersign`);
    expect(page).not.toContain('\u0440rod');
    expect(page).not.toContain('pr\u043Ed-db');
  });

  it('the inbox and history rows mark them in the title and onBehalfOf', () => {
    const rows = inboxRows([summary(lookalikeAction())], new Date('2026-05-01T10:06:00.000Z')).text;
    const history = historyPage({ viewer, values: {}, items: [summary(lookalikeAction())], nextCursor: null });
    for (const shown of [rows, history]) {
      expect(shown).toContain(`${LOOKALIKE_SHOWN.summary}</a>`);
      expect(shown).toContain(LOOKALIKE_SHOWN.onBehalfOf);
      expect(shown).not.toContain('pr\u043Ed-db');
    }
  });

  it('the action page warns under the heading for look-alikes alone; not for words in one script or a look-alike in a reason', () => {
    const page = actionPage({ ...view(lookalikeAction()), timeline: [] }, viewer);
    expect(hasHiddenCharacters(JSON.stringify(lookalikeAction().intent))).toBe(false);
    expect(page).toContain(`<p class="refusal hidden-chars" role="alert">${escapeHtml(MARKED_CHARACTERS_WARNING)}</p>`);
    const plain = actionPage({ ...view(oneScriptAction(), [hiddenVote(LOOKALIKE_REASON)]), timeline: [] }, viewer);
    expect(plain).toContain(escapeHtml(LOOKALIKE_REASON));
    expect(plain).not.toContain('hidden-chars');
  });

  it('the inbox and history rows flag a row whose title, onBehalfOf or risk class holds a look-alike', () => {
    const at = new Date('2026-05-01T10:06:00.000Z');
    const flag = `</a> <span class="badge hidden-chars" title="${escapeHtml(MARKED_CHARACTERS_WARNING)}">`;
    expect(inboxRows([summary(lookalikeAction())], at).text).toContain(`${LOOKALIKE_SHOWN.summary}${flag}`);
    expect(historyPage({ viewer, values: {}, items: [summary(lookalikeAction())], nextCursor: null })).toContain(`${LOOKALIKE_SHOWN.summary}${flag}`);
    const plain = summary(oneScriptAction());
    expect(inboxRows([plain], at).text).not.toContain('hidden-chars');
    for (const one of [
      { ...plain, summary: null, resource: 'pr\u043Ed-db' },
      { ...plain, requester: { ...plain.requester, onBehalfOf: 'fr\u0430nk' } },
      { ...plain, risk: { class: 'l\u043Ew', urgency: null } },
    ]) {
      expect(inboxRows([one], at).text).toContain('<span class="badge hidden-chars"');
    }
  });
});

// The card model gives the same marks as the console page (one display for every channel).
it('matches the card model for the title', () => {
  expect(buildCardModel(hiddenAction(), [], HIDDEN_DIRECTORY).title).toBe(title(actionPage(view(hiddenAction()), viewer)).replace(' · countersign', ''));
});
