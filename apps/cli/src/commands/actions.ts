import fs from 'node:fs';
import path from 'node:path';
import type { CliContext } from '../registry.ts';
import { parseCli } from '../args.ts';

// `countersign actions list|show|vote`: the read API and API-channel votes over HTTP, with a
// person's (or agent's) API key. Never the database: what a reviewer may see and do is the
// server's to decide.

export const usage = `usage: countersign actions list [--awaiting-me] [--status S] [--type T] [--resource PREFIX] [--requester ID]
                                [--voter ID] [--decided-by ID] [--rule ID] [--risk CLASS] [--env ENV]
                                [--from DATE] [--to DATE] [--limit N] [--cursor C] [--json]
       countersign actions show ID [--json]
       countersign actions vote ID approve|deny [--reason TEXT]
  --url     countersign's URL (else $CS, $COUNTERSIGN_URL, or the running npm start's)
  --token   a Bearer API key (else $COUNTERSIGN_TOKEN)
exit status: 0 done, 1 refused by the server (its problem code is printed), 2 usage
`;

const FILTERS: Record<string, string> = {
  status: 'status',
  type: 'actionType',
  resource: 'resource',
  requester: 'requester',
  'on-behalf-of': 'onBehalfOf',
  voter: 'voter',
  'decided-by': 'decidedBy',
  rule: 'ruleId',
  risk: 'riskClass',
  env: 'environment',
  from: 'submittedFrom',
  to: 'submittedTo',
  limit: 'limit',
  cursor: 'cursor',
};

function baseUrl(ctx: CliContext, flag: string | undefined): string | undefined {
  if (flag) return flag;
  if (ctx.env.CS) return ctx.env.CS;
  if (ctx.env.COUNTERSIGN_URL) return ctx.env.COUNTERSIGN_URL;
  const runtime = path.join(ctx.env.COUNTERSIGN_STATE_DIR ?? path.join(ctx.cwd, '.countersign'), 'runtime.json');
  try {
    return (JSON.parse(fs.readFileSync(runtime, 'utf8')) as { url?: string }).url;
  } catch {
    return undefined;
  }
}

interface Problem {
  code?: string;
  detail?: string;
  errors?: { field: string; message: string }[];
}

async function call(ctx: CliContext, url: string, token: string, method: string, route: string, body?: unknown): Promise<{ ok: true; body: any } | { ok: false }> {
  const res = await fetch(url.replace(/\/$/, '') + route, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (res.ok) return { ok: true, body: parsed };
  const p = (parsed ?? {}) as Problem;
  ctx.stderr.write(`countersign actions: ${res.status} ${p.code ?? 'error'}: ${p.detail ?? text}\n`);
  for (const e of p.errors ?? []) ctx.stderr.write(`  ${e.field}: ${e.message}\n`);
  return { ok: false };
}

function line(a: any): string {
  const title = a.summary ?? `${a.actionType}${a.resource ? ` on ${a.resource}` : ''}`;
  const progress = a.progress ? ` ${a.progress.filled}/${a.progress.needed}` : '';
  return `${a.id}  ${a.status.padEnd(9)} ${a.createdAt}  ${a.requester.id}${a.requester.onBehalfOf ? ` for ${a.requester.onBehalfOf}` : ''}  ${title}${progress}\n`;
}

function describe(a: any): string {
  const out = [`${a.id}  ${a.status}  (${a.verdict} by policy ${a.policyDigest.slice(0, 12)}…)`];
  const i = a.intent;
  if (i) out.push(`  what: ${i.action.type}${i.action.resource ? ` on ${i.action.resource}` : ''}${i.action.summary ? ` — ${i.action.summary}` : ''}`);
  if (i && Object.keys(i.action.params ?? {}).length) out.push(`  params: ${JSON.stringify(i.action.params)}`);
  out.push(`  who: ${a.requester.id} (${a.requester.kind})${a.requester.onBehalfOf ? ` on behalf of ${a.requester.onBehalfOf}` : ''}${a.requester.owner ? `, owner ${a.requester.owner}` : ''}`);
  out.push(`  why: ${a.ruleIds.join(', ')}: ${a.reasons.join('; ')}`);
  if (a.progress) {
    out.push(`  requirement: ${a.progress.filled} of ${a.progress.needed}${a.progress.approvals.length ? `; filled: ${a.progress.approvals.map((x: any) => `${x.role} by ${x.personId}`).join(', ')}` : ''}${a.progress.open.length ? `; open: ${a.progress.open.map((o: any) => `${o.count} × ${o.role}`).join(', ')}` : ''}`);
  }
  if (a.canStillDecide) out.push(`  can still decide: ${a.canStillDecide.join(', ') || 'nobody'}`);
  for (const t of a.timeline ?? []) out.push(`  ${t.at}  ${t.kind.padEnd(10)} ${t.text}${t.seq !== undefined ? `  [artifact #${t.seq}]` : ''}`);
  return `${out.join('\n')}\n`;
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  let parsed;
  try {
    parsed = parseCli(args, {
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      'awaiting-me': { type: 'boolean', default: false },
      reason: { type: 'string' },
      ...Object.fromEntries(Object.keys(FILTERS).map((k) => [k, { type: 'string' as const }])),
    });
  } catch (err) {
    ctx.stderr.write(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, id, decision, ...extra] = positionals;
  const url = baseUrl(ctx, values.url as string | undefined);
  const token = (values.token as string | undefined) ?? ctx.env.COUNTERSIGN_TOKEN;
  if (!url || !token) {
    ctx.stderr.write(`${!url ? 'no countersign URL (--url or $CS)' : 'no API key (--token or $COUNTERSIGN_TOKEN)'}\n${usage}`);
    return 2;
  }
  const json = (body: unknown) => ctx.stdout.write(`${JSON.stringify(body, null, 2)}\n`);

  if (sub === 'list' && !id) {
    const q = new URLSearchParams();
    for (const [flag, param] of Object.entries(FILTERS)) {
      const v = (values as Record<string, unknown>)[flag];
      if (typeof v === 'string') q.set(param, v);
    }
    if (values['awaiting-me']) q.set('awaiting', 'me');
    const r = await call(ctx, url, token, 'GET', `/v1/actions${q.size ? `?${q}` : ''}`);
    if (!r.ok) return 1;
    if (values.json) json(r.body);
    else {
      for (const a of r.body.items) ctx.stdout.write(line(a));
      if (r.body.items.length === 0) ctx.stdout.write('no actions\n');
      if (r.body.nextCursor) ctx.stdout.write(`more: --cursor ${r.body.nextCursor}\n`);
    }
    return 0;
  }
  if (sub === 'show' && id && !decision) {
    const r = await call(ctx, url, token, 'GET', `/v1/actions/${encodeURIComponent(id)}`);
    if (!r.ok) return 1;
    if (values.json) json(r.body);
    else ctx.stdout.write(describe(r.body));
    return 0;
  }
  if (sub === 'vote' && id && (decision === 'approve' || decision === 'deny') && extra.length === 0) {
    const body = { decision, ...(values.reason ? { reason: values.reason } : {}) };
    const r = await call(ctx, url, token, 'POST', `/v1/actions/${encodeURIComponent(id)}/votes`, body);
    if (!r.ok) return 1;
    ctx.stdout.write(`recorded: ${decision} (artifact #${r.body.vote.artifact?.seq ?? '?'}); the action is ${r.body.action.status}\n`);
    return 0;
  }
  ctx.stderr.write(usage);
  return 2;
}
