import fs from 'node:fs';
import path from 'node:path';
import { KeyService, systemClock } from '@countersign/core';
import { loadConfigFiles } from '@countersign/config';
import { createPrismaClient, PrismaGateStore, type PrismaClient } from '@countersign/db';
import { loadKeyring, type Keyring } from '@countersign/evidence';
import { configView } from '@countersign/server/config-view';
import type { CliContext } from './registry.ts';

export interface LocalEngine {
  prisma: PrismaClient;
  keyring: Keyring;
  keys: KeyService;
  close(): Promise<void>;
}

/**
 * The database the CLI talks to: DATABASE_URL, else the one a running `npm start` recorded in
 * .countersign/runtime.json. Never guessed: without either we stop with what to do.
 */
export function databaseUrl(ctx: CliContext): string {
  if (ctx.env.DATABASE_URL) return ctx.env.DATABASE_URL;
  const runtime = path.join(ctx.cwd, '.countersign', 'runtime.json');
  if (fs.existsSync(runtime)) {
    const parsed = JSON.parse(fs.readFileSync(runtime, 'utf8')) as { databaseUrl?: string };
    if (parsed.databaseUrl) return parsed.databaseUrl;
  }
  throw new Error('no database: set DATABASE_URL, or run `npm start` in another terminal first');
}

export function openEngine(ctx: CliContext): LocalEngine {
  const resolve = (p: string) => path.resolve(ctx.cwd, p);
  const files = loadConfigFiles({
    policyPath: resolve(ctx.env.COUNTERSIGN_POLICY ?? 'config/policy.yaml'),
    directoryPath: resolve(ctx.env.COUNTERSIGN_DIRECTORY ?? 'config/directory.yaml'),
  });
  const keyring = loadKeyring({
    pem: ctx.env.COUNTERSIGN_SIGNING_KEY,
    pemFile: ctx.env.COUNTERSIGN_SIGNING_KEY_FILE ? resolve(ctx.env.COUNTERSIGN_SIGNING_KEY_FILE) : undefined,
    dir: resolve(ctx.env.COUNTERSIGN_KEYS_DIR ?? '.countersign/keys'),
    // Never mint a key here: evidence sealed with a key nobody configured would be
    // unverifiable forever (the store is append-only). The service creates the embedded one.
    create: false,
  });
  const prisma = createPrismaClient(databaseUrl(ctx), { max: 2 });
  const store = new PrismaGateStore(prisma, keyring);
  const keys = new KeyService(store, configView(() => files), systemClock);
  return { prisma, keyring, keys, close: () => prisma.$disconnect() };
}
