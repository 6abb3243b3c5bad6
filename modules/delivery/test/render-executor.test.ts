import { describe, expect, it } from 'vitest';
import { ExecutorSchema, IntentSchema } from '@countersign/contracts';
import { renderExecutor, RenderError } from '../src/index.ts';

const intent = IntentSchema.parse({
  action: { type: 'environment.delete', resource: 'env/prod eu#1', params: { amount: 12.5, tags: ['a', 'b'], flag: true } },
  context: { environment: 'production' },
  justification: 'region closed',
});
const scope = { intent, actionId: 'act_0123456789abcdefghij', intentHash: 'f'.repeat(64) };
const noSecrets = () => undefined;

function executor(input: unknown) {
  return ExecutorSchema.parse(input);
}

describe('renderExecutor', () => {
  it('fills URL (encoded), headers and a typed JSON body from the intent', () => {
    const out = renderExecutor(
      executor({
        url: 'https://ops.example.com/environments/{{action.resource}}?by={{actionId}}',
        method: 'DELETE',
        headers: { Authorization: 'Bearer {{secret.OPS_TOKEN}}', 'X-Env': '{{context.environment}}' },
        body: { amount: '{{action.params.amount}}', tags: '{{action.params.tags}}', flag: '{{action.params.flag}}', note: '{{justification}} ({{intentHash}})', fixed: [1, null] },
      }),
      scope,
      (name) => (name === 'OPS_TOKEN' ? 's3cret' : undefined),
    );
    expect(out.url).toBe('https://ops.example.com/environments/env%2Fprod%20eu%231?by=act_0123456789abcdefghij');
    expect(out.method).toBe('DELETE');
    expect(out.headers).toEqual({ Authorization: 'Bearer s3cret', 'X-Env': 'production' });
    expect(JSON.parse(out.body!)).toEqual({ amount: 12.5, tags: ['a', 'b'], flag: true, note: `region closed (${'f'.repeat(64)})`, fixed: [1, null] });
  });

  it('refuses "." and ".." segments, from a value or written in the template', () => {
    for (const resource of ['..', '.']) {
      const dotted = IntentSchema.parse({ action: { type: 'environment.delete', resource } });
      expect(() => renderExecutor(executor({ url: 'https://ops.example.com/environments/{{action.resource}}/delete', method: 'POST' }), { ...scope, intent: dotted }, noSecrets)).toThrow(RenderError);
    }
    for (const url of ['https://ops.example.com/a/../admin', 'https://ops.example.com/a/%2E%2e/admin', 'https://ops.example.com/./x']) {
      expect(() => renderExecutor(executor({ url, method: 'POST' }), scope, noSecrets)).toThrow(/path segment/);
    }
    // Encoded, a value cannot add segments or end the path.
    const sneaky = IntentSchema.parse({ action: { type: 'environment.delete', resource: '../admin?x=1#y' } });
    const out = renderExecutor(executor({ url: 'https://ops.example.com/environments/{{action.resource}}', method: 'POST' }), { ...scope, intent: sneaky }, noSecrets);
    expect(out.url).toBe('https://ops.example.com/environments/..%2Fadmin%3Fx%3D1%23y');
  });

  it('sends no body when the template has none', () => {
    expect(renderExecutor(executor({ url: 'https://ops.example.com/x' }), scope, noSecrets)).toEqual({ url: 'https://ops.example.com/x', method: 'POST', headers: {} });
  });

  it.each([
    ['a value the intent lacks', { url: 'https://ops.example.com/{{context.account}}' }, /context\.account\}\} has no value/],
    ['an unset secret', { url: 'https://ops.example.com/x', headers: { authorization: 'Bearer {{secret.NOPE}}' } }, /COUNTERSIGN_EXECUTOR_SECRET_NOPE is not set/],
    ['a secret outside headers', { url: 'https://ops.example.com/x', body: { t: '{{secret.OPS_TOKEN}}' } }, /header values only/],
    ['an object in the URL', { url: 'https://ops.example.com/{{action.params}}' }, /not a single value/],
    ['a line break in a header', { url: 'https://ops.example.com/x', headers: { 'x-why': '{{justification}}' } }, /line break/],
  ])('refuses %s (never a half-filled request)', (_name, template, message) => {
    const evil = { ...scope, intent: { ...intent, justification: 'a\r\nX-Admin: yes' } };
    expect(() => renderExecutor(executor(template), evil, () => undefined)).toThrow(RenderError);
    expect(() => renderExecutor(executor(template), evil, () => undefined)).toThrow(message);
  });
});
