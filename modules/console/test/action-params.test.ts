import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intents, type TestService } from '../../../test/support/service.ts';
import { CONSOLE_DIRECTORY, startConsoleService, submitProdDelete } from '../../../test/support/console.ts';
import { signInWithoutBrowser } from './support/console-client.ts';

// Review s13 (2): the action page left out every parameter whose value was an empty list or
// object, so `{"keepBackups":[],"retainVolumes":{},"region":"eu"}` showed only the region while
// the engine approved, and the release token bound, all three. For many APIs an empty list or
// object is not an absent key (an empty exclusion list, an options object that switches on
// defaults): the approver sees every key the downstream receives.

let t: TestService;

beforeAll(async () => {
  t = await startConsoleService();
}, 600_000);

afterAll(() => t?.stop());

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
/** The text a reader sees of some HTML: tags gone, entities read. */
const shownText = (htmlText: string) => htmlText.replace(/<[^>]+>/g, '').replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!);

/** The page's rows (Who, What, Why) as [label, shown value] pairs. */
function rows(page: string): [string, string][] {
  return [...page.matchAll(/<dt>([^<]*)<\/dt><dd>([\s\S]*?)<\/dd>/g)].map((m) => [shownText(m[1]!), shownText(m[2]!)]);
}

describe('console: the action page shows every parameter', () => {
  it('an empty list or object is shown as [] or {}, beside the other params, as the API holds them', async () => {
    expect(CONSOLE_DIRECTORY).toContain('id: alice');
    const params = { keepBackups: [], retainVolumes: {}, region: 'eu', nested: { exclude: [], options: {} }, off: false, none: null, offText: 'false', count: '42', blank: '' };
    const id = await submitProdDelete(t, { action: { ...intents.prodDelete.action, params } });
    // What the engine holds (and the release token binds) is exactly what was sent.
    const held = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] });
    expect(held.body.intent.action.params).toEqual(params);

    const alice = await signInWithoutBrowser(t.url, 'alice');
    const res = await alice.get(`/console/actions/${id}`);
    expect(res.status).toBe(200);
    const shown = rows(await res.text());
    // Every key (sorted here: the page lists them in the stored intent's order, Postgres jsonb's, not the agent's).
    // Params are JSON, text quoted: "false" is not false.
    expect(shown.filter(([k]) => k.startsWith('param ')).sort()).toEqual([
      ['param blank', '""'],
      ['param count', '"42"'],
      ['param keepBackups', '[]'],
      ['param nested', '{"exclude":[],"options":{}}'],
      ['param none', 'null'],
      ['param off', 'false'],
      ['param offText', '"false"'],
      ['param region', '"eu"'],
      ['param retainVolumes', '{}'],
    ]);
    // The sections' `attributes: {}` is the SDK's normalised default in every intent, sent or
    // not: not a row. Attributes that were sent are one.
    expect(shown.map(([k]) => k)).not.toContain('attributes');
    expect(shown.map(([k]) => k)).not.toContain('authority attributes');
    expect(shown).toContainEqual(['environment', 'production']);
  });

  it('attributes that were sent are shown, empty values among them', async () => {
    const id = await submitProdDelete(t, {
      context: { environment: 'production', attributes: { tags: [] } },
      authority: { changeTicket: 'CHG-1', attributes: { approvals: {} } },
    });
    const alice = await signInWithoutBrowser(t.url, 'alice');
    const shown = rows(await (await alice.get(`/console/actions/${id}`)).text());
    expect(shown).toContainEqual(['attributes', '{"tags":[]}']);
    expect(shown).toContainEqual(['authority changeTicket', 'CHG-1']);
    expect(shown).toContainEqual(['authority attributes', '{"approvals":{}}']);
  });
});
