export * from './intent.ts';
export * from './directory.ts';
export * from './requirement.ts';
export * from './verdict.ts';
export * from './errors.ts';
export * from './artifact.ts';
export * from './ids.ts';
export * from './events.ts';
