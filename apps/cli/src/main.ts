#!/usr/bin/env node
import { dispatch } from './dispatch.ts';

dispatch(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`countersign: ${err.message}\n`);
    process.exitCode = 1;
  },
);
