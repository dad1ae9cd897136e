/**
 * Running nodes in Node-RED through node-red-node-test-helper: its server,
 * the msgs helper nodes receive, and what a node reported through the Sinon
 * spies the helper puts on every node.
 */

import { nodeRedRuntime } from './node-red-runtime';

/** The Node-RED under test: the devDependency, or NODE_RED_DIR's (see node-red-runtime.ts). */
export const runtime = nodeRedRuntime();

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper');
// The helper would find the devDependency by itself: it is told which one, so NODE_RED_DIR counts.
helper.init(runtime.main);

export type Msg = Record<string, any>;

/** For beforeEach: the helper's Node-RED server, without a flow yet. */
export function startNodeRed(): Promise<void> {
  return new Promise((r) => helper.startServer(r));
}

/** For afterEach: unloads the flow (closing every node), then stops the server. */
export async function stopNodeRed(): Promise<void> {
  await helper.unload();
  await new Promise((r) => helper.stopServer(r));
}

/** Every msg the helper node `id` receives from now on, in order. */
export function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}

type SpiedMethod = 'status' | 'error' | 'warn';

/** The spies sit on Node.prototype, so they see every node: keep only the calls `node` made. */
export function callsOf(node: any, method: SpiedMethod): { args: any[] }[] {
  return node[method].getCalls().filter((c: { thisValue: unknown }) => c.thisValue === node);
}

/** The status objects `node` set, oldest first. */
export function statusesOf(node: any): { fill?: string; shape?: string; text?: string }[] {
  return callsOf(node, 'status').map((c) => c.args[0]);
}

/** The texts `node` warned with, oldest first. */
export function warningsOf(node: any): string[] {
  return callsOf(node, 'warn').map((c) => String(c.args[0]));
}
