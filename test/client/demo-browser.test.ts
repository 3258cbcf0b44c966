import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterEach, expect, test } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { post } from '../graphql/helpers/live.js';
import { startTestServer } from '../graphql/helpers/server.js';

/**
 * In a real browser (Debian's chromium, driven by playwright-core): two pages on /demo; users
 * and posts created, updated and deleted through the forms of one page and over HTTP; after
 * each change the other page's lists equal the server's Query results, order included.
 * GraphiQL on /graphql renders its editor with no request leaving 127.0.0.1.
 */

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const available = existsSync(CHROMIUM);
if (!available)
  process.stdout.write(`skipping the browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)\n`);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(): Promise<{ server: RunningServer; browser: Browser; outside: string[] }> {
  const server = await startTestServer();
  cleanups.push(() => server.close());
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  cleanups.push(() => browser.close());
  return { server, browser, outside: [] };
}

/** A page that records every request whose host is not 127.0.0.1. */
async function open(browser: Browser, url: string, outside: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on('request', (request) => {
    const target = new URL(request.url());
    if (target.protocol !== 'data:' && target.protocol !== 'blob:' && target.hostname !== '127.0.0.1')
      outside.push(request.url());
  });
  await page.goto(url);
  return page;
}

const USERS_QUERY = '{ usersList { id name email role active age } }';
const POSTS_QUERY = '{ topPosts { id authorId title published likes author { id name email role active age } } }';

/** Waits until the page's two tables hold exactly the Query's rows, in order. */
async function expectPageEqualsQuery(page: Page, server: RunningServer): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const users = (await post(server, USERS_QUERY)).data?.['usersList'];
    const posts = (await post(server, POSTS_QUERY)).data?.['topPosts'];
    const shown = await page.evaluate(() => {
      const rows = (table: string) =>
        [...document.querySelectorAll(`#${table} tbody tr`)].map((tr) =>
          JSON.parse((tr as HTMLElement).dataset['content'] ?? 'null'),
        );
      return { users: rows('users'), posts: rows('posts') };
    });
    if (JSON.stringify(shown) === JSON.stringify({ users, posts })) return;
    if (Date.now() > deadline) expect(shown).toEqual({ users, posts });
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function submit(page: Page, form: string, fields: { [name: string]: string | boolean }, op: string) {
  for (const [name, value] of Object.entries(fields)) {
    const input = page.locator(`#${form} [name="${name}"]`);
    if (typeof value === 'boolean') await input.setChecked(value);
    else await input.fill(value);
  }
  await page.locator(`#${form} button[value="${op}"]`).click();
}

test.skipIf(!available)('a change made in one /demo page appears in the other, in order', async () => {
  const { server, browser, outside } = await setUp();
  const a = await open(browser, `${server.url.replace('/graphql', '')}/demo`, outside);
  const b = await open(browser, `${server.url.replace('/graphql', '')}/demo`, outside);
  for (const page of [a, b])
    await page.waitForFunction(() =>
      /usersList: live.*topPosts: live|topPosts: live.*usersList: live/.test(
        document.getElementById('status')?.textContent ?? '',
      ),
    );

  await submit(
    a,
    'user-form',
    { id: 'b-ann', name: 'Ann', email: 'ann@example.com', role: 'admin', age: '31' },
    'create',
  );
  await submit(
    a,
    'user-form',
    { id: 'b-bob', name: 'Bob', email: 'bob@example.com', role: 'viewer', active: false },
    'create',
  );
  await expectPageEqualsQuery(b, server);

  await submit(a, 'post-form', { id: 'b-p1', authorId: 'b-ann', title: 'First', likes: '3' }, 'create');
  await submit(a, 'post-form', { id: 'b-p2', authorId: 'b-bob', title: 'Second', likes: '7' }, 'create');
  await post(
    server,
    'mutation { createPost(input: { id: "b-p3", authorId: "b-ann", title: "Over HTTP", published: true, likes: 5 }) { id } }',
  );
  await expectPageEqualsQuery(b, server);
  expect(
    await b.locator('#posts tbody tr').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset['id'])),
  ).toEqual(['b-p2', 'b-p3', 'b-p1']);

  await submit(a, 'post-form', { id: 'b-p1', likes: '9' }, 'update'); // moves to the top
  await post(server, 'mutation { updateUser(id: "b-ann", patch: { name: "Anna" }) { id } }'); // renames a joined author
  await expectPageEqualsQuery(b, server);

  await submit(a, 'post-form', { id: 'b-p2' }, 'delete');
  await submit(a, 'user-form', { id: 'b-bob' }, 'delete');
  await expectPageEqualsQuery(b, server);
  await expectPageEqualsQuery(a, server);
  expect(await a.locator('#user-error').textContent()).toBe('');
  expect(outside).toEqual([]);
});

test.skipIf(!available)('GraphiQL renders its editor with no request leaving 127.0.0.1', async () => {
  const { server, browser, outside } = await setUp();
  const page = await open(browser, server.url, outside);
  await page.waitForSelector('.graphiql-container');
  // The server's default query, in the editor.
  await page.getByText('# Views: usersList', { exact: false }).first().waitFor();
  await page.getByText('kind version hash', { exact: false }).first().waitFor();
  expect(outside).toEqual([]);
});
