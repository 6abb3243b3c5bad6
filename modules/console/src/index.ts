// @countersign/console: the reviewers' and auditors' web console at /console (server-rendered
// pages, plain ES modules for live updates and Verify), people signed in with OIDC.
export { consoleModule, DEV_CLIENT_ID, liveStreamsOf } from './module.ts';
export { LIVE_STREAMS_PER_PERSON, LIVE_STREAMS_PER_SESSION, type LiveStreams } from './routes/live.ts';
export { startDevProvider, type DevProvider } from './dev-provider.ts';
export { parseConsoleSettings, type ConsoleSettings } from './settings.ts';
export { CONSOLE_CSP } from './security-headers.ts';
export { assetFiles, PUBLIC_DIR } from './routes/assets.ts';
export { consoleFirstScreenLines } from './first-screen.ts';
