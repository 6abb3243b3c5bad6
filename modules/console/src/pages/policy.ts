import type { Person } from '@countersign/contracts';
import type { CompiledPolicy } from '@countersign/policy';
import { html } from '../html.ts';
import { layout, type Viewer } from './layout.ts';

export function policyPage(opts: { viewer: Viewer; digestInForce: string; policy: CompiledPolicy | null; loadError?: string; people: readonly Person[] }): string {
  const { policy } = opts;
  const roles = new Map<string, string[]>();
  for (const p of opts.people) for (const r of p.roles) roles.set(r, [...(roles.get(r) ?? []), p.id]);
  return layout({
    title: 'Policy',
    viewer: opts.viewer,
    active: 'policy',
    body: html`<h1>Policy</h1>
<p class="lede">Read-only: the policy and the directory are files kept in version control, the ones the service is started with (<code>COUNTERSIGN_POLICY</code>, <code>COUNTERSIGN_DIRECTORY</code>); a change to them is sealed as evidence before it decides anything.</p>
<p>Digest in force: <code class="hash">${opts.digestInForce}</code></p>
${policy && policy.digest !== opts.digestInForce ? html`<p class="notice" role="status">The file on disk (digest <code class="hash">${policy.digest}</code>) is not in force yet: a change decides only once it is sealed.</p>` : ''}
${opts.loadError ? html`<p class="refusal" role="alert">The policy file could not be read: ${opts.loadError}</p>` : ''}
${policy
  ? html`<table class="list"><caption>Rules, in file order (refuse &gt; escalate &gt; approve; no match refuses)</caption>
<thead><tr><th scope="col">Rule</th><th scope="col">Outcome</th><th scope="col">When</th><th scope="col">Reason</th><th scope="col">Requirement</th></tr></thead><tbody>
${policy.rules.map(
  (r) => html`<tr><th scope="row"><code>${r.id}</code>${r.description ? html`<br><small>${r.description}</small>` : ''}</th>
<td><span class="badge outcome-${r.outcome}">${r.outcome}</span></td>
<td><code class="cel">${r.when}</code></td>
<td>${r.reason}</td>
<td>${r.requirement ? html`${r.requirement.groups.map((g) => `${g.count} × ${g.role}`).join(' + ')}<br><small>expires in ${Math.round(r.requirement.expiresInSeconds / 60)} min${r.requirement.redact.length ? `; redacts ${r.requirement.redact.join(', ')}` : ''}${r.requirement.ownerMayApprove ? '; owner may approve' : ''}</small>` : r.overrideRoles.length ? html`override: ${r.overrideRoles.join(', ')}` : ''}</td></tr>`,
)}
</tbody></table>`
  : ''}
<h2>Directory roles</h2>
<table class="list small"><thead><tr><th scope="col">Role</th><th scope="col">People</th></tr></thead><tbody>
${[...roles].sort(([a], [b]) => a.localeCompare(b)).map(([r, ids]) => html`<tr><th scope="row"><code>${r}</code></th><td>${ids.join(', ')}</td></tr>`)}
</tbody></table>`,
  });
}
