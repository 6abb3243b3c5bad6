import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { checkVariableNames } from '@countersign/config';
import { requireWebhookMaster } from '../apps/server/src/startup/webhook-master.ts';

/** A working folder holding no webhook master of an earlier start. */
const EMPTY_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-review-'));
afterAll(() => fs.rmSync(EMPTY_DIR, { recursive: true, force: true }));

// Review of the startup checks (s5): each case was a finding in /work/notes/review-s5/startup.md,
// failing before its fix.

function serviceLinks(service: string, port: number): Record<string, string> {
  const p = service.toUpperCase().replace(/-/g, '_');
  const at = `tcp://10.96.0.12:${port}`;
  return { [`${p}_SERVICE_HOST`]: '10.96.0.12', [`${p}_SERVICE_PORT`]: String(port), [`${p}_PORT`]: at, [`${p}_PORT_${port}_TCP`]: at, [`${p}_PORT_${port}_TCP_PROTO`]: 'tcp', [`${p}_PORT_${port}_TCP_PORT`]: String(port), [`${p}_PORT_${port}_TCP_ADDR`]: '10.96.0.12' };
}

describe('review findings (fixed)', () => {
  it('F1: a Postgres Service named countersign-db (service links on, the Kubernetes default) does not stop the service', () => {
    // COUNTERSIGN_DB_PORT=tcp://… is two edits from COUNTERSIGN_DB_POOL.
    expect(() => checkVariableNames(serviceLinks('countersign-db', 5432))).not.toThrow();
  });

  it('F2: an operator\'s own short COUNTERSIGN_ names (zone, root, mode, node, home) do not stop the service', () => {
    for (const name of ['COUNTERSIGN_ZONE', 'COUNTERSIGN_ROOT', 'COUNTERSIGN_MODE', 'COUNTERSIGN_NODE', 'COUNTERSIGN_HOME', 'COUNTERSIGN_UID', 'COUNTERSIGN_RUN']) {
      expect(() => checkVariableNames({ [name]: 'x' }), name).not.toThrow();
    }
  });

  it('F3: COUNTERSIGN_KEYS_DIR set but empty is no keys folder: the webhook master is still required', () => {
    expect(() => requireWebhookMaster({ COUNTERSIGN_KEYS_DIR: '' }, EMPTY_DIR)).toThrow(/one webhook master secret/);
  });
});
