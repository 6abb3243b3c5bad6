import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeAbandonedScratch } from '../src/scratch-folders.ts';

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.once('exit', done));
  return child.pid ?? -1;
}

describe('removeAbandonedScratch', () => {
  it('removes the folders and owner files of dead runs and keeps those of live ones', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'countersign-scratch-'));
    folders.push(scratch);
    const dead = await deadPid();
    await mkdir(join(scratch, `pg-${dead}-abcd1234`, 'data'), { recursive: true });
    await writeFile(join(scratch, `pg-${dead}-abcd1234.owner.json`), '{}');
    await writeFile(join(scratch, `pg-${dead}-0000beef.owner.json`), '{}');
    await mkdir(join(scratch, `redis-${process.pid}-feed0001`));
    await mkdir(join(scratch, 'not-a-run'));

    const removed = await removeAbandonedScratch(scratch);

    expect(removed.sort()).toEqual([`pg-${dead}-0000beef`, `pg-${dead}-abcd1234`]);
    expect(existsSync(join(scratch, `pg-${dead}-abcd1234`))).toBe(false);
    expect(existsSync(join(scratch, `pg-${dead}-abcd1234.owner.json`))).toBe(false);
    expect(existsSync(join(scratch, `pg-${dead}-0000beef.owner.json`))).toBe(false);
    expect(existsSync(join(scratch, `redis-${process.pid}-feed0001`))).toBe(true);
    expect(existsSync(join(scratch, 'not-a-run'))).toBe(true);
  });

  it('answers nothing for a folder that does not exist', async () => {
    expect(await removeAbandonedScratch(join(tmpdir(), 'countersign-no-such-folder'))).toEqual([]);
  });
});
