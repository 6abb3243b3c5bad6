export * from './common.ts';
export * from './action-view.ts';
export * from './responses.ts';
export * from './requests.ts';
