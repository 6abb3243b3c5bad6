import type { z } from 'zod';
import { DomainError } from '@countersign/contracts';
import { zodIssues } from '@countersign/core';

/** Parses request input with zod; failures become one field-precise 400 problem. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw new DomainError('invalid_request', `The request ${where} is not valid.`, { issues: zodIssues(parsed.error) });
}
