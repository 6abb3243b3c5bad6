import {
  EXECUTOR_CREDENTIAL_HEADERS,
  EXECUTOR_PLACEHOLDER_ROOTS,
  EXECUTOR_RESERVED_HEADERS,
  placeholdersIn,
  type Executor,
} from '@countersign/contracts';

// Checks on an executor template that a schema cannot express. All of them exist so that what
// approvers see in the policy is what countersign will send: a fixed destination, placeholders
// that name parts of the intent, and credentials only by reference.

export interface ExecutorIssue {
  /** Path below the rule's `executor` key, for the error location. */
  path: (string | number)[];
  message: string;
}

const ROOTS = new Set<string>(EXECUTOR_PLACEHOLDER_ROOTS);
const RESERVED = new Set<string>(EXECUTOR_RESERVED_HEADERS);
const CREDENTIAL = new Set<string>(EXECUTOR_CREDENTIAL_HEADERS);
const SECRET_NAME = /^[A-Z0-9_]{1,64}$/;
/** Scheme and authority of an absolute URL template. */
const ORIGIN = /^(https?):\/\/([^/?#]*)/i;

export function executorIssues(executor: Executor): ExecutorIssue[] {
  const issues: ExecutorIssue[] = [];

  const origin = ORIGIN.exec(executor.url);
  if (!origin) {
    issues.push({ path: ['url'], message: 'executor url must be an absolute http(s) URL' });
  } else if (origin[2]!.includes('{{') || origin[2] === '') {
    // The destination is checked against the allow-list at load and at execution: it must be
    // written out so that a crafted intent can never choose where countersign sends requests.
    issues.push({ path: ['url'], message: 'executor url: the scheme and host must be written out, not templated' });
  } else {
    try {
      const parsed = new URL(executor.url.replace(/\{\{[^}]*\}\}/g, 'x'));
      if (parsed.username || parsed.password) issues.push({ path: ['url'], message: 'executor url must not carry credentials; use a header with {{secret.NAME}}' });
    } catch {
      issues.push({ path: ['url'], message: 'executor url is not a valid URL' });
    }
  }
  checkPlaceholders(executor.url, ['url'], false, issues);

  for (const [name, value] of Object.entries(executor.headers)) {
    const lower = name.toLowerCase();
    if (RESERVED.has(lower) || lower.startsWith('countersign-')) {
      issues.push({ path: ['headers', name], message: `header "${name}" is set by countersign and cannot be templated` });
      continue;
    }
    checkPlaceholders(value, ['headers', name], true, issues);
    if (CREDENTIAL.has(lower) && !placeholdersIn(value).some((p) => p.startsWith('secret.'))) {
      issues.push({ path: ['headers', name], message: `header "${name}" carries a credential: write it as {{secret.NAME}} (read from COUNTERSIGN_EXECUTOR_SECRET_NAME), never literally` });
    }
  }

  walkStrings(executor.body, ['body'], (text, path) => checkPlaceholders(text, path, false, issues));
  return issues;
}

/** The executor's destination origin (scheme://host[:port]), for allow-list checks and evidence. */
export function executorOrigin(executor: Executor): string | undefined {
  const m = ORIGIN.exec(executor.url);
  if (!m || m[2]!.includes('{{')) return undefined;
  try {
    return new URL(`${m[1]}://${m[2]}`).origin;
  } catch {
    return undefined;
  }
}

function checkPlaceholders(text: string, path: (string | number)[], secretsAllowed: boolean, issues: ExecutorIssue[]): void {
  // An opening brace pair that is not a well-formed placeholder would be sent literally:
  // almost certainly a typo (`{{ action.resource }` ), so refuse it.
  const leftover = text.replace(/\{\{\s*[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\s*\}\}/g, '');
  if (leftover.includes('{{') || leftover.includes('}}')) {
    issues.push({ path, message: `malformed placeholder in "${text}"; write {{action.resource}}` });
  }
  for (const p of placeholdersIn(text)) {
    const [root, ...rest] = p.split('.');
    if (!ROOTS.has(root!)) {
      issues.push({ path, message: `unknown placeholder {{${p}}}; it must start with one of: ${EXECUTOR_PLACEHOLDER_ROOTS.join(', ')}` });
    } else if (root === 'secret') {
      if (!secretsAllowed) issues.push({ path, message: `{{${p}}}: secrets may be used in header values only` });
      else if (rest.length !== 1 || !SECRET_NAME.test(rest[0]!)) issues.push({ path, message: `{{${p}}}: write {{secret.NAME}} with NAME in A-Z, 0-9 and _` });
    }
  }
}

function walkStrings(value: unknown, path: (string | number)[], visit: (text: string, path: (string | number)[]) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => walkStrings(item, [...path, i], visit));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) walkStrings(item, [...path, key], visit);
  }
}

/**
 * Executors in `rules` whose destination `allows` refuses, as messages naming the rule and its
 * line. The allow-list lives in the environment, not the policy, so callers that know it (the
 * delivery module at boot, `policy check`) run this after loading; execution checks again.
 */
export function executorDestinationProblems(
  policy: { fileName: string; rules: readonly { id: string; line: number; requirement: { executor?: Executor } | undefined }[] },
  allows: (url: string) => boolean,
): string[] {
  const problems: string[] = [];
  for (const rule of policy.rules) {
    const executor = rule.requirement?.executor;
    if (!executor) continue;
    // The fixed part of the URL (up to the first placeholder) must already be allowed: a
    // prefix entry longer than that could not be proven before the intent fills it in.
    const fixed = executor.url.split('{{')[0]!;
    if (!allows(fixed)) problems.push(`${policy.fileName}:${rule.line}: rule ${rule.id}: executor destination ${executorOrigin(executor) ?? fixed} is not an allowed destination`);
  }
  return problems;
}
