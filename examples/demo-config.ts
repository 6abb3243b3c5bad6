import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Where the examples find countersign and their API keys: environment variables first, else
// what a running `npm start` wrote in its state folder (its URL and the demo keys):
// .countersign/, or COUNTERSIGN_STATE_DIR when the first screen exported one.

const STATE = path.resolve(import.meta.dirname, '..', process.env.COUNTERSIGN_STATE_DIR || '.countersign');

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(STATE, file), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function countersignUrl(): string {
  return process.env.CS ?? readJson<{ url?: string }>('runtime.json')?.url ?? 'http://127.0.0.1:8080';
}

/** The key in `envVar`, else the demo key of `principal` from .countersign/demo-keys.json. */
export function apiKey(envVar: string, principal: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  const demo = readJson<{ principal: string; token: string }[]>('demo-keys.json')?.find((k) => k.principal === principal);
  if (!demo) throw new Error(`set ${envVar} (or run \`npm start\` first to create the demo keys)`);
  return demo.token;
}

/** True when this module is the script being run (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}
