/**
 * Real browsers for tests, from Debian's packages: Chromium through
 * playwright-core (CDP), Firefox ESR through WebDriver BiDi spoken directly
 * (a few commands over undici's WebSocket). playwright-core's own BiDi Firefox
 * needs commands ESR does not have yet (emulation.setMediaFeaturesOverride),
 * and its patched Firefox would be a download; puppeteer-core would be a
 * second browser library for the same few calls.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { WebSocket } from 'undici';

export const CHROMIUM = '/usr/bin/chromium';
export const FIREFOX = '/usr/bin/firefox-esr';
/** Headless, and nothing that talks to the internet on its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LAUNCH_TIMEOUT_MS = 60_000;
const COMMAND_TIMEOUT_MS = 30_000;

export interface TestBrowser {
  name: string;
  version: string;
  /** Navigates the one page to `url` and waits for it to load. */
  goto(url: string): Promise<void>;
  /** Evaluates a JS expression in the page; its value must be a string, number or boolean. */
  evaluate<T extends string | number | boolean>(expression: string): Promise<T>;
  close(): Promise<void>;
}

export type BrowserName = 'chromium' | 'firefox';

export function browserPath(name: BrowserName): string {
  return name === 'chromium' ? CHROMIUM : FIREFOX;
}

export function launchBrowser(name: BrowserName): Promise<TestBrowser> {
  return name === 'chromium' ? launchChromium() : launchFirefox();
}

async function launchChromium(): Promise<TestBrowser> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'axmjpeg-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: LAUNCH_TIMEOUT_MS });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    name: 'Chromium',
    version: context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent)),
    async goto(url) {
      await page.goto(url, { waitUntil: 'load', timeout: COMMAND_TIMEOUT_MS });
    },
    evaluate: (expression) => page.evaluate(expression),
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Profile preferences: no first-run pages, updates, telemetry, safe-browsing
 * or connectivity probes (this machine reaches no internet, and must not try).
 */
const FIREFOX_PREFS: Record<string, string | number | boolean> = {
  'app.update.disabledForTesting': true,
  'app.update.auto': false,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.page': 0,
  'browser.startup.homepage_override.mstone': 'ignore',
  'startup.homepage_welcome_url': 'about:blank',
  'startup.homepage_welcome_url.additional': '',
  'browser.aboutwelcome.enabled': false,
  'browser.newtabpage.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.search.update': false,
  'browser.topsites.contile.enabled': false,
  'browser.ping-centre.telemetry': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'extensions.blocklist.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.http.speculative-parallel-limit': 0,
  'network.prefetch-next': false,
  'media.gmp-manager.updateEnabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'remote.active-protocols': 1,
};

interface BidiReply {
  id?: number;
  type?: string;
  result?: Record<string, unknown>;
  error?: string;
  message?: string;
}

async function launchFirefox(): Promise<TestBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'axmjpeg-firefox-'));
  fs.writeFileSync(path.join(profile, 'user.js'), Object.entries(FIREFOX_PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));
  const proc: ChildProcess = spawn(FIREFOX, ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port', '0', 'about:blank'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' },
  });
  let output = '';
  const gone = new Promise<void>((r) => proc.once('exit', () => r()));
  const cleanup = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    fs.rmSync(profile, { recursive: true, force: true });
  };
  try {
    const wsBase = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Firefox printed no BiDi address within ${LAUNCH_TIMEOUT_MS} ms:\n${output.slice(-2000)}`)), LAUNCH_TIMEOUT_MS);
      const onData = (c: Buffer): void => {
        output += c.toString();
        const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Firefox exited (${code}) before BiDi was up:\n${output.slice(-2000)}`));
      });
    });
    const ws = new WebSocket(`${wsBase.replace(/\/$/, '')}/session`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`WebSocket to ${wsBase} failed`)), { once: true });
    });
    let nextId = 1;
    const waiting = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as BidiReply;
      if (msg.id === undefined) return;
      const w = waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      if (msg.type === 'error') w.reject(new Error(`BiDi ${msg.error}: ${msg.message}`));
      else w.resolve(msg.result ?? {});
    });
    const send = (method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`BiDi ${method}: no answer within ${COMMAND_TIMEOUT_MS} ms`));
        }, COMMAND_TIMEOUT_MS);
        waiting.set(id, {
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        ws.send(JSON.stringify({ id, method, params }));
      });
    const session = await send('session.new', { capabilities: {} });
    const caps = (session.capabilities ?? {}) as { browserVersion?: string };
    const tree = await send('browsingContext.getTree', {});
    const context = ((tree.contexts as { context: string }[])[0] ?? { context: '' }).context;
    return {
      name: 'Firefox',
      version: caps.browserVersion ?? '?',
      async goto(url) {
        await send('browsingContext.navigate', { context, url, wait: 'complete' });
      },
      async evaluate<T extends string | number | boolean>(expression: string): Promise<T> {
        const r = await send('script.evaluate', { expression, target: { context }, awaitPromise: true, resultOwnership: 'none' });
        if (r.type === 'exception') throw new Error(`in Firefox: ${JSON.stringify(r.exceptionDetails).slice(0, 500)}`);
        return (r.result as { value: T }).value;
      },
      async close() {
        await send('browser.close', {}).catch(() => undefined);
        ws.close();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
