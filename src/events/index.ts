export * from './messages';
export * from './topics';
export * from './event-stream';
export * from './ws-limits';
