export * from './protocol';
export * from './tile';
export * from './widgets';
export * from './connection';
export * from './tickets';
export * from './server';
