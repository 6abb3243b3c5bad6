// @countersign/console: the reviewers' and auditors' web console at /console (server-rendered
// pages, plain ES modules for live updates and Verify), people signed in with OIDC.
export { consoleModule, DEV_CLIENT_ID } from './module.ts';
export { startDevProvider, type DevProvider } from './dev-provider.ts';
export { parseConsoleSettings, type ConsoleSettings } from './settings.ts';
export { CONSOLE_CSP } from './security-headers.ts';
export { assetFiles, PUBLIC_DIR } from './routes/assets.ts';
export { consoleFirstScreenLines } from './first-screen.ts';
