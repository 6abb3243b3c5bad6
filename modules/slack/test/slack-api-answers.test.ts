import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelError } from '@countersign/core';
import { parseSlackSettings, type SlackSettings } from '../src/settings.ts';
import { SlackApi } from '../src/slack-api.ts';
import { createWebClient } from '../src/web-client.ts';
import { FakeSlack, type ScriptedAnswer } from '../../../test/fakes/slack-api.ts';

// How the Web API client reads answers that are not plain successes, against the fake Slack
// Web API (the real HTTP client, the real error mapping, the real metrics registry):
// - a 429 is never retried sooner than a second, whatever its Retry-After says or lacks, and
//   an HTTP-date Retry-After is honoured;
// - a 2xx whose body is not Slack's JSON object (a proxy's page, a body cut short) is a
//   retryable failure that may have been done (`bad_response`, ambiguous), and no response
//   text ever becomes an error code, a metric label or more than a clipped log detail.

const GATEWAY_PAGE = `<html><head><title>502</title></head><body>Gateway says hi ${'x'.repeat(5000)}</body></html>`;
const CODES_WE_KNOW = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

let fake: FakeSlack;
let registry: Registry;
let api: SlackApi;

beforeAll(async () => {
  fake = await FakeSlack.start({ channels: [{ id: 'C0ANSWERS1', name: 'answers' }] });
  const settings = parseSlackSettings({ SLACK_BOT_TOKEN: fake.token, SLACK_SIGNING_SECRET: 'secret-secret', SLACK_TEAM_ID: fake.teamId, SLACK_API_URL: fake.url }) as SlackSettings;
  const logger = pino({ level: 'silent' });
  registry = new Registry();
  api = new SlackApi(createWebClient(settings, logger), logger, registry);
});
afterAll(async () => fake?.close());

/** The ChannelError one chat.update call ends with, given the fake's scripted answer. */
async function updateFailure(answer: ScriptedAnswer): Promise<ChannelError> {
  fake.script('chat.update', answer);
  const err = await api.call('chat.update', (c) => c.chat.update({ channel: 'C0ANSWERS1', ts: '1.000001', text: 'x' })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ChannelError);
  return err as ChannelError;
}

async function failureLabels(): Promise<{ method: string; code: string; retryable: string }[]> {
  const metric = await registry.getSingleMetric('countersign_slack_api_failures_total')!.get();
  return metric.values.map((v) => v.labels as { method: string; code: string; retryable: string });
}

describe('a 429 waits at least a second', () => {
  const limited = { status: 429, body: { ok: false, error: 'ratelimited' } };

  it('without Retry-After', async () => {
    expect(await updateFailure(limited)).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 1000 });
  });

  it('with Retry-After 0 or one nobody can read', async () => {
    for (const value of ['0', 'soon', '-5', '']) {
      expect(await updateFailure({ ...limited, headers: { 'retry-after': value } }), value).toMatchObject({ code: 'rate_limited', retryAfterMs: 1000 });
    }
  });

  it('with an HTTP-date Retry-After: until that date', async () => {
    const at = Date.now() + 30_000;
    const err = await updateFailure({ ...limited, headers: { 'retry-after': new Date(at).toUTCString() } });
    // An HTTP date names whole seconds: 29 to 31 s from now, never the 0 it used to be.
    expect(err.retryAfterMs).toBeGreaterThanOrEqual(29_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(31_000);
    // A date already past: the floor.
    expect((await updateFailure({ ...limited, headers: { 'retry-after': new Date(Date.now() - 60_000).toUTCString() } })).retryAfterMs).toBe(1000);
  });

  it('with delta-seconds, as asked (capped at an hour)', async () => {
    expect((await updateFailure({ ...limited, headers: { 'retry-after': '5' } })).retryAfterMs).toBe(5000);
    expect((await updateFailure({ ...limited, headers: { 'retry-after': '999999' } })).retryAfterMs).toBe(3_600_000);
  });
});

describe('a 2xx that is not Slack’s JSON answer', () => {
  it('a proxy page after 200: retryable, may have been done, code bad_response, detail clipped', async () => {
    const err = await updateFailure({ status: 200, rawBody: GATEWAY_PAGE });
    expect(err).toMatchObject({ code: 'bad_response', retryable: true, ambiguous: true });
    expect(err.message).toContain('text/html');
    expect(err.message).toContain('Gateway says hi');
    expect(err.message.length).toBeLessThan(450);
  });

  it('JSON that is not an object with `ok`, an empty body, a body cut short', async () => {
    const json = { 'content-type': 'application/json; charset=utf-8' };
    for (const rawBody of ['null', '[]', '"ok"', '42', '{}', '{"channel":"C0ANSWERS1"}', '', '{"ok":true,"channel":"C0ANS']) {
      expect(await updateFailure({ status: 200, headers: json, rawBody }), rawBody).toMatchObject({ code: 'bad_response', retryable: true, ambiguous: true });
    }
  });

  it('a post answered this way is looked for before it is posted again (ambiguous), after Slack did post it', async () => {
    fake.script('chat.postMessage', { accept: true, status: 200, rawBody: GATEWAY_PAGE });
    const before = fake.cardsIn('C0ANSWERS1').length;
    const err = await api.call('chat.postMessage', (c) => c.chat.postMessage({ channel: 'C0ANSWERS1', text: 'card' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bad_response', retryable: true, ambiguous: true });
    expect(fake.cardsIn('C0ANSWERS1').length).toBe(before + 1);
  });

  it('an error text that is not a Slack code is not taken for one', async () => {
    const err = await updateFailure({ body: { ok: false, error: GATEWAY_PAGE } });
    expect(err).toMatchObject({ code: 'unknown_error', retryable: false });
    expect(err.message.length).toBeLessThan(100);
    // Slack's own codes still come through as they are.
    expect(await updateFailure({ body: { ok: false, error: 'message_not_found' } })).toMatchObject({ code: 'message_not_found', retryable: false });
  });

  it('no response text reaches a metric label', async () => {
    await updateFailure({ status: 200, rawBody: GATEWAY_PAGE });
    await updateFailure({ body: { ok: false, error: GATEWAY_PAGE } });
    const labels = await failureLabels();
    expect(labels).toContainEqual({ method: 'chat.update', code: 'bad_response', retryable: 'true' });
    for (const l of labels) {
      expect(l.code).toMatch(CODES_WE_KNOW);
      expect(JSON.stringify(l)).not.toMatch(/Gateway|<html/);
    }
    expect((await registry.metrics()).length).toBeLessThan(5000);
  });
});
