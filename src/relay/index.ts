export * from './broadcaster';
export * from './multipart';
export * from './path';
export * from './cors';
export * from './frame-channel';
export * from './framing';
export * from './placeholder';
