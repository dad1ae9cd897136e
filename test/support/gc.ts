import v8 from 'node:v8';
import vm from 'node:vm';

/** `global.gc` without --expose-gc on the mocha command line, for tests that measure what memory is still held. */
export function exposeGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
