import { EXECUTOR_PLACEHOLDER, type Executor, type Intent } from '@countersign/contracts';

// Turns an executor template into the request to send, from the approved action's intent.
// Anything missing or unusable stops the render (fail closed): countersign never sends a
// half-filled request.

export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderError';
  }
}

export interface RenderScope {
  intent: Intent;
  actionId: string;
  intentHash: string;
}

export interface RenderedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** Exactly one placeholder and nothing else: the value keeps its JSON type in a body. */
const WHOLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}$/;

export function renderExecutor(executor: Executor, scope: RenderScope, secret: (name: string) => string | undefined): RenderedRequest {
  const lookup = (path: string, where: 'url' | 'header' | 'body'): unknown => {
    const [root, ...rest] = path.split('.');
    if (root === 'secret') {
      if (where !== 'header') throw new RenderError(`{{${path}}} may be used in header values only`);
      const value = secret(rest.join('.'));
      if (!value) throw new RenderError(`{{${path}}}: COUNTERSIGN_EXECUTOR_SECRET_${rest.join('.')} is not set`);
      return value;
    }
    const value = resolve(scope, path);
    if (value === undefined) throw new RenderError(`{{${path}}} has no value in this intent`);
    return value;
  };

  // Substituted values are percent-encoded (a "/" cannot add a segment, "?" or "#" cannot end
  // the path), and a value that is a whole "." or ".." segment is refused: URL parsing would
  // resolve it and walk the request up the path the allow-list approved.
  const url = interpolate(executor.url, (path) => {
    const value = scalar(lookup(path, 'url'), path);
    if (value === '.' || value === '..') throw new RenderError(`{{${path}}} is "${value}", which would be a relative path segment`);
    return encodeURIComponent(value);
  });
  if (hasDotSegment(url)) throw new RenderError('the executor URL would contain a "." or ".." path segment');
  const headers: Record<string, string> = {};
  for (const [name, template] of Object.entries(executor.headers)) {
    const value = interpolate(template, (path) => scalar(lookup(path, 'header'), path));
    // A value with a line break would smuggle another header into the request.
    if (/[\r\n\0]/.test(value)) throw new RenderError(`header ${name} would contain a line break`);
    headers[name] = value;
  }
  const rendered: RenderedRequest = { url, method: executor.method, headers };
  if (executor.body !== undefined) rendered.body = JSON.stringify(renderValue(executor.body, (path) => lookup(path, 'body')));
  return rendered;
}

function renderValue(template: unknown, lookup: (path: string) => unknown): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) return lookup(whole[1]!);
    return interpolate(template, (path) => {
      const value = lookup(path);
      return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    });
  }
  if (Array.isArray(template)) return template.map((item) => renderValue(item, lookup));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([key, item]) => [key, renderValue(item, lookup)]));
  }
  return template;
}

function interpolate(template: string, replace: (path: string) => string): string {
  return template.replace(new RegExp(EXECUTOR_PLACEHOLDER.source, 'g'), (_match, path: string) => replace(path));
}

function scalar(value: unknown, path: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new RenderError(`{{${path}}} is not a single value (string, number or boolean)`);
}

function resolve(scope: RenderScope, path: string): unknown {
  const [root, ...rest] = path.split('.');
  let value: unknown;
  if (root === 'actionId') value = scope.actionId;
  else if (root === 'intentHash') value = scope.intentHash;
  else value = (scope.intent as unknown as Record<string, unknown>)[root!];
  for (const key of rest) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Whether the URL's path, as written (before any parser resolves it), has a "." or ".." segment. */
function hasDotSegment(url: string): boolean {
  const afterScheme = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  const path = afterScheme.split(/[?#]/)[0] ?? '';
  return path.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
}
