import { resolve } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { killProcessGroups, spawnProcess, type TestProcess } from '../process-groups.js';
import { parseExposition } from './prometheus-text.js';

/**
 * The operations endpoints of the server as a user runs it (`server/main.ts`): METRICS_TOKEN
 * and AUTH_SECRET from the environment, the readiness flags, bad values exiting 2.
 */
const root = resolve(import.meta.dirname, '../..');
afterEach(killProcessGroups);

function start(args: string[], env: { [name: string]: string }): TestProcess {
  return spawnProcess(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, AUTH_SECRET: '', METRICS_TOKEN: '', INSTANCE_ID: '', ...env },
  });
}

async function listening(child: TestProcess): Promise<string> {
  const line = await child.waitForLine((text) => (JSON.parse(text) as { msg?: unknown }).msg === 'listening');
  return String((JSON.parse(line) as { url?: unknown }).url).replace(/\/graphql$/, '');
}

test('with AUTH_SECRET and METRICS_TOKEN: probes open, /metrics behind the token; SIGTERM exits 0', async () => {
  const token = 'metrics-token-for-the-test';
  const child = start(['--port', '0', '--memory', '--ready-max-lag-ms', '250', '--instance-id', 'eu-1'], {
    AUTH_SECRET: 'x'.repeat(32),
    METRICS_TOKEN: token,
  });
  const base = await listening(child);
  expect((await fetch(`${base}/health`)).status).toBe(200);
  expect(await (await fetch(`${base}/ready`)).json()).toEqual({ ready: true });
  expect((await fetch(`${base}/metrics`)).status).toBe(401);
  const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(metrics.status).toBe(200);
  const exposition = parseExposition(await metrics.text());
  expect(exposition.value('liveviews_records')).toBe(0);
  expect(exposition.value('process_resident_memory_bytes')).toBeGreaterThan(0);
  child.signal('SIGTERM');
  expect((await child.exited).code).toBe(0);
});

test('a short METRICS_TOKEN or a bad --ready-max-lag-ms exits 2', async () => {
  const short = start(['--memory'], { METRICS_TOKEN: 'short' });
  expect((await short.exited).code).toBe(2);
  expect(short.stderr()).toContain('METRICS_TOKEN must be at least 16 characters');
  const lag = start(['--memory', '--ready-max-lag-ms', 'soon'], {});
  expect((await lag.exited).code).toBe(2);
  expect(lag.stderr()).toContain('--ready-max-lag-ms must be an integer');
});
