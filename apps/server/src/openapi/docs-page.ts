import { createHash } from 'node:crypto';
import type { OpenApiDocument } from './document.ts';

// GET /docs: a page rendered here from the OpenAPI document, so it works offline (no CDN, no
// docs bundle) and runs no script at all: its CSP allows only its own stylesheet, by hash.

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;color:#1b1f24}
h1{margin-bottom:0}h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem}
.op{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.op h3{margin:.3rem 0;font-family:ui-monospace,monospace;font-size:1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700}.GET{color:#0969da}.POST{color:#1a7f37}.PUT,.PATCH{color:#9a6700}.DELETE{color:#cf222e}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left;vertical-align:top}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;max-height:24rem;font-size:12px}
details{margin:.3rem 0}summary{cursor:pointer}nav a{margin-right:1rem}code{font-size:90%}`;

export const DOCS_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function schemaBlock(label: string, schema: unknown): string {
  return `<details><summary>${esc(label)}</summary><pre>${esc(JSON.stringify(schema, null, 2))}</pre></details>`;
}

type Op = {
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: unknown }[];
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
};

function operationHtml(method: string, path: string, op: Op): string {
  const parts = [`<div class="op"><h3><span class="m ${esc(method.toUpperCase())}">${esc(method.toUpperCase())}</span>${esc(path)}</h3>`, `<p>${esc(op.summary ?? '')}</p>`];
  if (op.description) parts.push(`<p>${esc(op.description)}</p>`);
  parts.push(`<p>Authentication: ${op.security && op.security.length > 0 ? 'Bearer API key' : 'none'}</p>`);
  if (op.parameters?.length) {
    parts.push('<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>');
    for (const p of op.parameters) {
      parts.push(`<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${esc(JSON.stringify(p.schema))}</code></td><td>${esc(p.description ?? '')}</td></tr>`);
    }
    parts.push('</table>');
  }
  for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) parts.push(schemaBlock(`Request body: ${type}`, media.schema ?? {}));
  parts.push('<table><tr><th>status</th><th>description</th><th>content</th></tr>');
  for (const [status, r] of Object.entries(op.responses)) {
    const content = Object.entries(r.content ?? {})
      .map(([type, media]) => (media.schema ? schemaBlock(type, media.schema) : `<code>${esc(type)}</code>`))
      .join('');
    parts.push(`<tr><td>${esc(status)}</td><td>${esc(r.description)}</td><td>${content}</td></tr>`);
  }
  parts.push('</table></div>');
  return parts.join('\n');
}

export function docsPage(doc: OpenApiDocument): string {
  const info = doc.info as { title: string; version: string; description: string };
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = ((op.tags as string[] | undefined) ?? ['other'])[0] ?? 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push(operationHtml(method, path, op as unknown as Op));
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<h2 id="${esc(tag)}">${esc(tag)}</h2>\n${ops.join('\n')}`);
  const schemas = Object.entries(doc.components.schemas).map(([name, s]) => `<h3 id="schema-${esc(name)}">${esc(name)}</h3><pre>${esc(JSON.stringify(s, null, 2))}</pre>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(info.title)} API v${esc(info.version)}</title><style>${STYLE}</style></head>
<body><h1>${esc(info.title)} API</h1><p>OpenAPI ${esc(doc.openapi)} · version ${esc(info.version)} · <a href="/openapi.json">openapi.json</a></p>
<p>${esc(info.description)}</p>
<nav>${[...byTag.keys()].map((t) => `<a href="#${esc(t)}">${esc(t)}</a>`).join('')}<a href="#schemas">schemas</a></nav>
${sections.join('\n')}
<h2 id="schemas">Schemas</h2>
${schemas.join('\n')}
</body></html>
`;
}
