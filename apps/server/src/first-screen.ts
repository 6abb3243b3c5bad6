import type { DemoKey } from './demo-keys.ts';

// What a newcomer sees after `npm start`: where the service is, keys that work, and one
// copy-paste command per outcome (approve, refuse, escalate → votes → release).

const INTENTS = {
  approve: { action: { type: 'db.query', resource: 'orders-replica', summary: 'Count orders placed yesterday' }, risk: { class: 'read' } },
  refuse: {
    action: { type: 'data.export', resource: 'crm/customers', summary: 'Export all customers' },
    context: { attributes: { pii: true } },
    justification: 'marketing wants a list',
  },
  escalate: {
    action: { type: 'environment.delete', resource: 'env/prod-eu-1', summary: 'Delete the prod-eu-1 environment' },
    context: { environment: 'production' },
    risk: { class: 'destructive', urgency: 'high' },
    justification: 'Region decommissioned (CHG-1234)',
  },
};

function varName(principal: string): string {
  return principal === 'deploy-bot' ? 'AGENT' : principal.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export function firstScreen(opts: {
  url: string;
  demo: DemoKey[];
  embedded: boolean;
  channelLines?: string[];
  /** Where `npm start` keeps its data, as shown (default `.countersign/`). */
  stateDir?: string;
  /** COUNTERSIGN_STATE_DIR when it moved the folder: exported so the CLI and examples follow. */
  stateDirExport?: string;
  /** The policy and directory files in force (COUNTERSIGN_POLICY, COUNTERSIGN_DIRECTORY). */
  policyFile?: string;
  directoryFile?: string;
}): string {
  const state = opts.stateDir ?? '.countersign/';
  const post = (who: string, path: string, body: unknown) =>
    `curl -s $CS${path} -H "authorization: Bearer $${varName(who)}" -H 'content-type: application/json' -d '${JSON.stringify(body)}'`;
  const keyLines = opts.demo.map((k) => `    export ${varName(k.principal)}=${k.token}   # ${k.principal}: ${k.note}`);
  const lines = [
    '',
    `  countersign is running → ${opts.url}`,
    `  ${opts.embedded ? `Postgres and Redis: embedded, data in ${state}` : 'Postgres and Redis: from DATABASE_URL / REDIS_URL'} · policy: ${opts.policyFile ?? 'config/policy.yaml'} · directory: ${opts.directoryFile ?? 'config/directory.yaml'}`,
    ...(opts.channelLines ?? []).map((l) => `  ${l}`),
    '',
    `  Paste these into another terminal (demo keys, kept in ${state}demo-keys.json;`,
    '  real ones: npm run countersign -- keys create --principal ID):',
    '',
    `    export CS=${opts.url}`,
    ...(opts.stateDirExport ? [`    export COUNTERSIGN_STATE_DIR=${opts.stateDirExport}   # the CLI and examples/ find this instance's data here`] : []),
    ...keyLines,
    '',
    '  1) approve: a read-only action is approved at once, with a release token',
    `    ${post('deploy-bot', '/v1/actions', INTENTS.approve)}`,
    '',
    '  2) refuse: exporting customer personal data is refused (dave, the CTO, may override with a reason)',
    `    ${post('deploy-bot', '/v1/actions', INTENTS.refuse)}`,
    '',
    '  3) escalate: deleting production waits for an SRE lead AND someone from security',
    `    ID=$(${post('deploy-bot', '/v1/actions', INTENTS.escalate)} | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')`,
    '    curl -s "$CS/v1/actions/$ID?wait=60" -H "authorization: Bearer $AGENT" &   # the agent waits for the verdict',
    `    ${post('erin', '/v1/actions/$ID/votes', { decision: 'approve', reason: 'mine' })}   # refused: erin owns the agent`,
    `    ${post('alice', '/v1/actions/$ID/votes', { decision: 'approve', reason: 'runbook checked' })}`,
    `    ${post('bob', '/v1/actions/$ID/votes', { decision: 'approve', reason: 'no customer data left' })}   # → approved, the agent is released`,
    '',
    '  Evidence: every decision is a signed, hash-chained artifact',
    '    curl -s $CS/v1/audit/export -H "authorization: Bearer $GRACE" > audit.jsonl',
    '    npm run countersign -- verify audit.jsonl --key $CS/.well-known/jwks.json',
    '',
    '  Health: $CS/healthz  $CS/readyz  $CS/metrics        Policy: npm run countersign -- policy test config/policy.test.yaml',
    '  Stop: Ctrl-C',
    '',
  ];
  return lines.join('\n') + '\n';
}
