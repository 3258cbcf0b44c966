import { print } from 'graphql';
import { loadConfig } from '../../config/load.js';
import { type RunningServer, startServer } from '../../server/app.js';
import { createLogger } from '../../server/logger.js';
import { AllViewsDocument } from '../graphql/generated/graphql.js';
import { post, random } from '../graphql/helpers/live.js';

/** A client's copy of a view as the tests compare it with the Query. */
export interface Copy {
  readonly state: { readonly version: number; readonly rows: readonly unknown[] } | undefined;
}

/** A real server on 127.0.0.1 with its tables in `file` (port 0: a free one). */
export async function serve(file: string, port = 0): Promise<RunningServer> {
  const server = await startServer({
    checked: await loadConfig(),
    port,
    host: '127.0.0.1',
    storage: { file },
    logger: createLogger({ level: 'error', write: (line) => void process.stderr.write(`${line}\n`) }),
  });
  return server;
}

const MUTATIONS = {
  createUser: 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
  updateUser: 'mutation($id: ID!, $patch: UserPatch!) { updateUser(id: $id, patch: $patch) { id } }',
  deleteUser: 'mutation($id: ID!) { deleteUser(id: $id) { id } }',
  createPost: 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }',
  updatePost: 'mutation($id: ID!, $patch: PostPatch!) { updatePost(id: $id, patch: $patch) { id } }',
  deletePost: 'mutation($id: ID!) { deletePost(id: $id) { id } }',
};

/** One random mutation; errors (a create of an existing id, an update of a missing one) are fine. */
export async function mutate(server: RunningServer, next: () => number): Promise<void> {
  const n = (k: number) => Math.floor(next() * k);
  const userId = `u${n(6)}`;
  const postId = `p${n(15)}`;
  const roll = next();
  if (roll < 0.15) {
    await post(server, MUTATIONS.createUser, {
      input: {
        id: userId,
        name: ['Ann', 'bob', 'Émile', 'zoë'][n(4)],
        email: 'x@example.com',
        role: 'r',
        active: true,
      },
    });
  } else if (roll < 0.25) await post(server, MUTATIONS.updateUser, { id: userId, patch: { name: `N${n(9)}` } });
  else if (roll < 0.3) await post(server, MUTATIONS.deleteUser, { id: userId });
  else if (roll < 0.55) {
    await post(server, MUTATIONS.createPost, {
      input: { id: postId, authorId: userId, title: `t${n(9)}`, published: next() < 0.7, likes: n(5) },
    });
  } else if (roll < 0.9) {
    const patch = [{ likes: n(5) }, { published: next() < 0.5 }, { authorId: userId }, { title: `t${n(9)}` }][n(4)];
    await post(server, MUTATIONS.updatePost, { id: postId, patch });
  } else await post(server, MUTATIONS.deletePost, { id: postId });
}

export const POST = 'id authorId title published likes';
export const AD_HOC_ARGS = 'where: { published: { eq: true } }, orderBy: [{ field: title, direction: DESC }], limit: 5';

/** Rows as plain JSON without `__typename` (Apollo and urql add it; the Query here does not ask for it). */
export const strip = (rows: readonly unknown[]) =>
  JSON.parse(JSON.stringify(rows, (key, value) => (key === '__typename' ? undefined : value))) as unknown[];

/** Polls the Query until every followed copy has its version and its rows, in order. */
export async function expectEqualToQuery(server: RunningServer, follows: { readonly [view: string]: Copy }) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const data = (await post(server, print(AllViewsDocument))).data as { [view: string]: unknown[] } & {
      views: { id: string; version: number }[];
    };
    const differ = Object.entries(follows).filter(([view, follow]) => {
      const version = data.views.find((v) => v.id === view)?.version;
      const state = follow.state;
      return state?.version !== version || JSON.stringify(strip(state?.rows ?? [])) !== JSON.stringify(data[view]);
    });
    if (differ.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`views differ from the Query: ${differ.map(([view]) => view).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A client under test: its copies of views, a way to cut its socket, and to close it. */
export interface ClientUnderTest {
  readonly copies: { readonly [view: string]: Copy };
  /** Problems seen on the way (a hash mismatch, a gap, an event out of order, a failure). */
  readonly problems: readonly string[];
  cut(): void;
  close(): Promise<void> | void;
}

/**
 * Random mutations over HTTP; the client's socket cut; the server stopped and started again on
 * the same file and port: after each step every copy equals the Query (version, rows, order).
 */
export async function runScenario(
  file: string,
  connect: (server: RunningServer) => ClientUnderTest,
  cleanups: (() => Promise<void> | void)[],
  seed: number,
): Promise<ClientUnderTest> {
  let server = await serve(file);
  cleanups.push(() => server.close());
  const client = connect(server);
  cleanups.push(() => client.close());
  const next = random(seed);
  for (let i = 0; i < 40; i++) await mutate(server, next);
  await expectEqualToQuery(server, client.copies);
  client.cut();
  for (let i = 0; i < 20; i++) await mutate(server, next);
  await expectEqualToQuery(server, client.copies);
  const port = server.port;
  await server.close();
  server = await serve(file, port);
  for (let i = 0; i < 40; i++) await mutate(server, next);
  await expectEqualToQuery(server, client.copies);
  return client;
}
