import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ApiResponse } from './service.ts';

// Holds responses to the service's own OpenAPI document: each response a test receives must be
// a documented status of a documented operation, with a documented media type, and a JSON body
// that validates against the operation's schema (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses).
// A request to no documented operation (an unknown path, a wrong method) must be answered with
// a Problem. Opt in per service: startTestService({ onResponse: checker.check }).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Ajv2020 = ((Ajv2020Module as any).default ?? Ajv2020Module) as typeof Ajv2020Module.default;
type Ajv2020 = InstanceType<typeof Ajv2020>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as typeof addFormatsModule.default;

const BASE = 'https://countersign.test/components/';

interface Media {
  schema?: unknown;
}
interface Operation {
  responses: Record<string, { content?: Record<string, Media> }>;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, any> } };

export interface Violation {
  request: string;
  status: number;
  problem: string;
}

function rewrite(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewrite);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', BASE) : rewrite(v)]),
  );
}

export class OpenApiResponseChecker {
  readonly violations: Violation[] = [];
  /** `METHOD /template STATUS` of every documented response seen. */
  readonly covered = new Set<string>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly routes: { method: string; template: string; pattern: RegExp; op: Operation }[] = [];

  constructor(readonly document: Document) {
    addFormats(this.ajv);
    for (const [name, schema] of Object.entries(document.components.schemas)) this.ajv.addSchema(rewrite(schema) as object, BASE + name);
    for (const [template, ops] of Object.entries(document.paths)) {
      const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const [method, op] of Object.entries(ops)) this.routes.push({ method: method.toUpperCase(), template, pattern, op });
    }
  }

  /** Checks one response; violations are recorded, never thrown (the test asserts on them). */
  readonly check = (method: string, route: string, res: Pick<ApiResponse, 'status' | 'headers' | 'body' | 'text'>): void => {
    const path = route.split('?')[0]!;
    const request = `${method} ${route.slice(0, 200)}`;
    const fail = (problem: string): void => void this.violations.push({ request, status: res.status, problem });
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    // A literal path wins over a template (no such overlap today, but be exact).
    const matches = this.routes.filter((r) => r.pattern.test(path) && r.method === method.toUpperCase());
    const hit = matches.find((r) => !r.template.includes('{')) ?? matches[0];
    if (!hit) {
      if (type !== 'application/problem+json') return fail(`no documented operation, and the answer is ${type || 'untyped'}, not a Problem`);
      this.validate(BASE + 'Problem', res.body, fail);
      return;
    }
    const response = hit.op.responses[String(res.status)];
    if (!response) return fail(`status ${res.status} is not documented for ${hit.method} ${hit.template}`);
    this.covered.add(`${hit.method} ${hit.template} ${res.status}`);
    const content = response.content ?? {};
    if (Object.keys(content).length === 0 || content['*/*']) return;
    const media = content[type];
    if (!media) return fail(`content type ${type || '(none)'} is not documented for ${res.status} (${Object.keys(content).join(', ')})`);
    if (media.schema === undefined) return;
    if (!/json$/.test(type)) return;
    if (res.body === undefined) return fail('a JSON answer whose body does not parse');
    this.validate(media.schema, res.body, fail);
  };

  private readonly compiled = new Map<unknown, ReturnType<Ajv2020['compile']>>();

  private validate(schema: unknown, body: unknown, fail: (problem: string) => void): void {
    let validate = typeof schema === 'string' ? this.ajv.getSchema(schema) : this.compiled.get(schema);
    if (!validate && typeof schema !== 'string') {
      validate = this.ajv.compile(rewrite(schema) as object);
      this.compiled.set(schema, validate);
    }
    if (!validate) return fail(`no schema ${String(schema)}`);
    if (!validate(body)) fail(this.ajv.errorsText(validate.errors, { separator: '; ' }).slice(0, 1000));
  }
}
