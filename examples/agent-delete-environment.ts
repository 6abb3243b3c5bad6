// An agent asks to delete a production environment. `guard` makes the deletion run only once
// countersign approves it: the agent waits (reconnecting if countersign restarts), then hands
// the release token to the downstream service, which verifies and redeems it before acting.
//
// Run it (after `npm start`, `npm run build -w @countersign/sdk` and the downstream service):
//   npx tsx examples/agent-delete-environment.ts env/prod-eu-1
// then approve as an SRE lead and as security (the first screen of `npm start` has the keys).
import {
  Countersign,
  currentRelease,
  DecisionError,
  TimeoutError,
  type IntentInput,
} from '@countersign/sdk';
import { apiKey, countersignUrl, isMain } from './demo-config.ts';

/** The intent: what, where, how risky, and why. Who is asking comes from the API key. */
export function deletionIntent(environment: string): IntentInput {
  return {
    action: { type: 'environment.delete', resource: environment, summary: `Delete the ${environment} environment` },
    context: { environment: 'production' },
    risk: { class: 'destructive', urgency: 'normal' },
    justification: 'Region decommissioned; no traffic for 30 days (CHG-1234)',
  };
}

export function deletionAgent(opts: { baseUrl: string; apiKey: string; downstreamUrl: string; log?: (line: string) => void }) {
  const log = opts.log ?? console.log;
  const countersign = new Countersign({ baseUrl: opts.baseUrl, apiKey: opts.apiKey });
  return countersign.guard(
    deletionIntent,
    async (environment: string) => {
      const { releaseToken, action } = currentRelease()!;
      log(`approved (${action.id}); asking the downstream service to delete ${environment}`);
      const res = await fetch(`${opts.downstreamUrl}/environments/delete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'countersign-release-token': releaseToken },
        body: JSON.stringify({ intent: deletionIntent(environment) }),
      });
      const body = (await res.json()) as unknown;
      if (!res.ok) throw new Error(`downstream refused (${res.status}): ${JSON.stringify(body)}`);
      return body;
    },
    {
      timeout: 30 * 60_000,
      onPending: (action) => {
        const open = action.progress?.open.map((g) => `${g.count} × ${g.role}`).join(', ') ?? 'approvers';
        log(`waiting for approval of ${action.id} (needs ${open})`);
        log(`  vote: curl -s ${opts.baseUrl}/v1/actions/${action.id}/votes -H "authorization: Bearer $ALICE" -H 'content-type: application/json' -d '{"decision":"approve","reason":"checked"}'`);
      },
    },
  );
}

if (isMain(import.meta.url)) {
  const environment = process.argv[2] ?? 'env/prod-eu-1';
  const deleteEnvironment = deletionAgent({
    baseUrl: countersignUrl(),
    apiKey: apiKey('AGENT', 'deploy-bot'),
    downstreamUrl: process.env.DOWNSTREAM_URL ?? 'http://127.0.0.1:4100',
  });
  try {
    console.log('done:', JSON.stringify(await deleteEnvironment(environment)));
  } catch (err) {
    if (err instanceof DecisionError) console.error(`not deleted: ${err.status} (${err.actionId}): ${err.reasons.join('; ')}`);
    else if (err instanceof TimeoutError) console.error(`not deleted: no decision in time (${err.actionId})`);
    else console.error(`not deleted: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
