#!/usr/bin/env node
import { dispatch } from './dispatch.ts';
import { shownError } from './terminal.ts';

dispatch(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    // An error can quote what a server, a file or a caller said: never raw to the terminal.
    process.stderr.write(`countersign: ${shownError(err)}\n`);
    process.exitCode = 1;
  },
);
