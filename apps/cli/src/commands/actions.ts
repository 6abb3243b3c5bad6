import fs from 'node:fs';
import path from 'node:path';
import { MARKED_CHARACTERS_WARNING } from '@countersign/core';
import type { CliContext } from '../registry.ts';
import { parseCli } from '../args.ts';
import { MARKED_LIST_WARNING, ShownText, shownLine, terminalJson } from '../terminal.ts';

// `countersign actions list|show|vote`: the read API and API-channel votes over HTTP, with a
// person's (or agent's) API key. Never the database: what a reviewer may see and do is the
// server's to decide. Everything printed that an agent, a person or the server wrote goes
// through terminal.ts: an agent must not be able to rewrite the line that says what will run.

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

/**
 * The service's URL, or why not. Never quoted back: a URL can carry a password
 * (http://user:secret@host), and fetch's own error would print it whole.
 */
function urlProblem(url: string): string | undefined {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) return 'the countersign URL (--url, $CS or $COUNTERSIGN_URL) must be an http:// or https:// URL';
  if (parsed.username || parsed.password) return 'the countersign URL (--url, $CS or $COUNTERSIGN_URL) must not hold a user or password: the API key goes in --token or $COUNTERSIGN_TOKEN';
  return undefined;
}

async function call(ctx: CliContext, url: string, token: string, method: string, route: string, body?: unknown): Promise<{ ok: true; body: any } | { ok: false }> {
  let res: Response;
  try {
    res = await fetch(url.replace(/\/$/, '') + route, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a TLS error) is its cause.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not quoted: a parser's message would repeat the answer's first bytes, whatever they are.
    if (res.ok) throw new Error(`${method} ${route}: the server's answer is not JSON`);
  }
  if (res.ok) return { ok: true, body: parsed };
  // A problem's detail and its errors can repeat what a caller sent.
  const p = (parsed && typeof parsed === 'object' ? parsed : {}) as Problem;
  ctx.stderr.write(`countersign actions: ${res.status} ${shownLine(p.code ?? 'error')}: ${shownLine(p.detail ?? text.slice(0, 500))}\n`);
  for (const e of Array.isArray(p.errors) ? p.errors : []) ctx.stderr.write(`  ${shownLine(e.field)}: ${shownLine(e.message)}\n`);
  return { ok: false };
}

/**
 * One row of `actions list`; every field through `shown`, which marks hidden characters, and the
 * look-alike letters of the caller's words (resource, summary, onBehalfOf) as the console's rows do.
 */
function line(a: any, shown: ShownText): string {
  const { line: l, caller: c } = shown;
  // The type always, never the agent's summary alone: a summary is the agent's own words.
  const title = `${l(a.actionType)}${a.resource ? ` on ${c(a.resource)}` : ''}${a.summary ? ` — ${c(a.summary)}` : ''}`;
  const progress = a.progress ? ` ${l(a.progress.filled)}/${l(a.progress.needed)}` : '';
  return `${l(a.id)}  ${l(a.status).padEnd(9)} ${l(a.createdAt)}  ${l(a.requester.id)}${a.requester.onBehalfOf ? ` for ${c(a.requester.onBehalfOf)}` : ''}  ${title}${progress}\n`;
}

function describe(a: any): string {
  const shown = new ShownText();
  const { line: l, caller: c } = shown;
  const out = [`${l(a.id)}  ${l(a.status)}  (${l(a.verdict)} by policy ${l(String(a.policyDigest).slice(0, 12))}…)`];
  const i = a.intent;
  // The caller's words (resource, summary, params, onBehalfOf): look-alike letters marked too.
  if (i) out.push(`  what: ${l(i.action.type)}${i.action.resource ? ` on ${c(i.action.resource)}` : ''}${i.action.summary ? ` — ${c(i.action.summary)}` : ''}`);
  // As JSON, text quoted (valueLine, as on the cards): the bidi, zero-width and C1 characters
  // JSON.stringify leaves as they are are marked too.
  if (i && Object.keys(i.action.params ?? {}).length) out.push(`  params: ${shown.value(i.action.params)}`);
  out.push(`  who: ${l(a.requester.id)} (${l(a.requester.kind)})${a.requester.onBehalfOf ? ` on behalf of ${c(a.requester.onBehalfOf)}` : ''}${a.requester.owner ? `, owner ${l(a.requester.owner)}` : ''}`);
  out.push(`  why: ${a.ruleIds.map(l).join(', ')}: ${a.reasons.map(l).join('; ')}`);
  if (a.progress) {
    out.push(`  requirement: ${l(a.progress.filled)} of ${l(a.progress.needed)}${a.progress.approvals.length ? `; filled: ${a.progress.approvals.map((x: any) => `${l(x.role)} by ${l(x.personId)}`).join(', ')}` : ''}${a.progress.open.length ? `; open: ${a.progress.open.map((o: any) => `${l(o.count)} × ${l(o.role)}`).join(', ')}` : ''}`);
  }
  if (a.canStillDecide) out.push(`  can still decide: ${a.canStillDecide.map(l).join(', ') || 'nobody'}`);
  for (const t of a.timeline ?? []) out.push(`  ${l(t.at)}  ${l(t.kind).padEnd(10)} ${l(t.text)}${t.seq !== undefined ? `  [artifact #${l(t.seq)}]` : ''}`);
  // Said first, before the lines it is about, so the reviewer reads them knowing.
  if (shown.marked) out.unshift(MARKED_CHARACTERS_WARNING);
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
    ctx.stderr.write(`${shownLine((err as Error).message)}\n${usage}`);
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
  const badUrl = urlProblem(url);
  if (badUrl) {
    ctx.stderr.write(`${badUrl}\n${usage}`);
    return 2;
  }
  // For programs and people both: the same JSON, with hidden characters as \uXXXX escapes.
  const json = (body: unknown) => ctx.stdout.write(`${terminalJson(body, 2)}\n`);

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
      const shown = new ShownText();
      for (const a of r.body.items) ctx.stdout.write(line(a, shown));
      if (r.body.items.length === 0) ctx.stdout.write('no actions\n');
      if (shown.marked) ctx.stdout.write(`${MARKED_LIST_WARNING}\n`);
      if (r.body.nextCursor) ctx.stdout.write(`more: --cursor ${shownLine(r.body.nextCursor)}\n`);
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
    ctx.stdout.write(`recorded: ${decision} (artifact #${shownLine(r.body.vote.artifact?.seq ?? '?')}); the action is ${shownLine(r.body.action.status)}\n`);
    return 0;
  }
  ctx.stderr.write(usage);
  return 2;
}
