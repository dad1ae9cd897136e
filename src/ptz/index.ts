export * from './capabilities';
export * from './controller';
export * from './wait';
