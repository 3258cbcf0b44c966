import { type ExecutionResult, execute, parse, subscribe } from 'graphql';
import { beforeAll, expect, test } from 'vitest';
import { Access, type LiveStore, openLiveStore } from '../../app/index.js';
import { recordShape, type Shape } from '../../config/shape.js';
import { defineConfig } from '../../config/types.js';
import { type CheckedConfig, checkConfig } from '../../config/validate.js';
import { buildSchema, printSortedSchema, type RequestContext } from '../../graphql/index.js';

/**
 * Another application, with nothing of the demo: its schema comes from its config the same
 * way (select with nested paths, a join on a non-id field, groupBy on a joined path, avg /
 * min / max, distinct, JSON and Float fields). For every view, a query selecting every
 * field of the generated row type returns exactly the engine's rows: the derived GraphQL
 * types match what the engine produces.
 */
const config = defineConfig({
  tables: [
    { name: 'projects', type: 'Project', fields: { name: 'String!', archived: 'Boolean!' } },
    {
      name: 'tasks',
      type: 'Task',
      fields: { projectId: 'ID', title: 'String!', estimate: 'Float', done: 'Boolean!', tags: 'JSON' },
    },
  ],
  views: [
    {
      id: 'openTasks',
      from: 'tasks',
      where: { done: { eq: false } },
      join: [{ table: 'projects', as: 'project', on: { left: 'projectId', right: 'id' }, kind: 'left' }],
      select: ['title', 'project.name', 'tags'],
      orderBy: [{ field: 'estimate', direction: 'desc' }],
      limit: 3,
    },
    {
      id: 'estimateByProject',
      from: 'tasks',
      join: [{ table: 'projects', as: 'project', on: { left: 'projectId', right: 'id' } }],
      groupBy: ['project.name'],
      aggregate: {
        tasks: { fn: 'count' },
        mean: { fn: 'avg', field: 'estimate' },
        longest: { fn: 'max', field: 'estimate' },
        first: { fn: 'min', field: 'title' },
        total: { fn: 'sum', field: 'estimate' },
      },
    },
    { id: 'taskStates', from: 'tasks', distinct: ['done'] },
    {
      id: 'projectTasks',
      from: 'projects',
      join: [{ table: 'tasks', as: 'task', on: { left: 'id', right: 'projectId' }, kind: 'left' }],
    },
  ],
});

let checked: CheckedConfig;
let store: LiveStore;
let schema: ReturnType<typeof buildSchema>;
let contextValue: RequestContext;

async function run(source: string, variableValues: { [name: string]: unknown } = {}): Promise<ExecutionResult> {
  return (await execute({ schema, document: parse(source), variableValues, contextValue })) as ExecutionResult;
}

function selection(shape: Shape): string {
  return [...shape]
    .map(([field, value]) => {
      if (value.kind === 'scalar') return field;
      const table = value.table === undefined ? undefined : checked.tables.get(value.table);
      return `${field} { ${selection(table === undefined ? value.fields : recordShape(table))} }`;
    })
    .join(' ');
}

beforeAll(async () => {
  checked = checkConfig(config);
  store = await openLiveStore(checked);
  schema = buildSchema(checked);
  contextValue = { access: new Access(store) };
});

test('the schema has the types of this config, not of the demo', () => {
  const sdl = printSortedSchema(schema);
  for (const type of [
    'type Project ',
    'type Task ',
    'input CreateTaskInput',
    'input TaskPatch',
    'type OpenTasksRow ',
    'type OpenTasksRowProject ',
    'type EstimateByProjectRowProject ',
    'type TaskStatesUpdate ',
  ]) {
    expect(sdl).toContain(type);
  }
  expect(sdl).not.toContain('User');
  expect(sdl).toMatch(/type OpenTasksRowProject \{\n {2}name: String!\n\}/);
  expect(sdl).toMatch(/type ProjectTasksRow \{[^}]*task: Task\n/);
  expect(sdl).toMatch(/enum TableName \{\n {2}projects\n {2}tasks\n\}/);
});

test('every view query returns exactly the engine rows, through mutations of every kind', async () => {
  const stream = await subscribe({
    schema,
    contextValue,
    document: parse('subscription { openTasks { kind version added { id } removed } }'),
  });
  if (!(Symbol.asyncIterator in stream)) throw new Error(JSON.stringify(stream));
  const first = await stream.next();
  expect(first.value).toMatchObject({ data: { openTasks: { kind: 'SNAPSHOT' } } });

  const steps: [string, { [name: string]: unknown }][] = [
    [
      'mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }',
      { i: { id: 'p1', name: 'Alpha', archived: false } },
    ],
    [
      'mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }',
      { i: { id: 'p2', name: 'Beta', archived: true } },
    ],
    [
      'mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }',
      { i: { id: 't1', projectId: 'p1', title: 'write', estimate: 2.5, done: false, tags: ['a', { b: 1 }] } },
    ],
    [
      'mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }',
      { i: { id: 't2', projectId: 'p1', title: 'test', estimate: 1, done: true } },
    ],
    [
      'mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }',
      { i: { id: 't3', projectId: 'p9', title: 'orphan', done: false } },
    ],
    [
      'mutation($c: [ChangeInput!]!) { ingestBatch(changes: $c) { ids } }',
      {
        c: [
          {
            table: 'tasks',
            op: 'CREATE',
            id: 't4',
            data: { projectId: 'p2', title: 'plan', estimate: 4, done: false },
          },
          { table: 'tasks', op: 'UPDATE', id: 't2', data: { done: false, estimate: 7.25 } },
          { table: 'projects', op: 'UPDATE', id: 'p2', data: { name: 'Beta 2' } },
        ],
      },
    ],
    ['mutation { updateTask(id: "t1", patch: { projectId: "p2", tags: null }) { id } }', {}],
    ['mutation { deleteProject(id: "p1") { id } }', {}],
  ];
  for (const [source, variables] of steps) {
    const result = await run(source, variables);
    expect(result.errors, source).toBeUndefined();
    for (const [id, analysis] of checked.views) {
      const { data, errors } = await run(`{ ${id} { ${selection(analysis.shape)} } }`);
      expect(errors, id).toBeUndefined();
      expect(data?.[id], `${id} after ${source}`).toEqual(store.snapshot(id).rows);
    }
  }
  expect(store.snapshot('estimateByProject').rows.map((row) => row['project'])).toEqual([{ name: 'Beta 2' }]);
  expect(store.snapshot('projectTasks').rows.map((row) => row['id'])).toEqual(['["p2","t1"]', '["p2","t4"]']);

  const next = await stream.next();
  expect(next.value).toMatchObject({
    data: {
      openTasks: {
        kind: 'DELTA',
        version: (first.value as { data: { openTasks: { version: number } } }).data.openTasks.version + 1,
      },
    },
  });
  await stream.return?.();
  expect(store.listenerCount()).toBe(0);
});
