import { createClient } from 'graphql-ws';
import { type FollowStatus, followView, type LiveState, type SubscribeClient } from '../index.js';

/**
 * The /demo page: `usersList` and `topPosts` followed live with `followView`, and forms that
 * create, update and delete users and posts over HTTP. Values typed in the forms travel as
 * GraphQL variables, never as query text. Built for the browser by server/demo.ts (esbuild).
 */

type Row = { readonly id: string; readonly [field: string]: unknown };

const USER_FIELDS = 'id name email role active age';
const POST_FIELDS = `id authorId title published likes author { ${USER_FIELDS} }`;
const subscription = (view: string, fields: string) =>
  `subscription { ${view} { view version kind hash removed orderBy { field direction } added { ${fields} } updated { ${fields} } } }`;

const endpoint = `${location.origin}/graphql`;
const ws = createClient({ url: endpoint.replace(/^http/, 'ws') });
const transport = ws as unknown as SubscribeClient;

const statuses: { [view: string]: FollowStatus } = {};
function showStatus(view: string, status: FollowStatus): void {
  statuses[view] = status;
  const text = Object.entries(statuses)
    .map(([name, s]) => `${name}: ${s}`)
    .join(', ');
  const element = document.getElementById('status');
  if (element !== null) element.textContent = `(${text})`;
}

function cell(text: unknown): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '—' : String(text);
  return td;
}

/** Replaces a table's rows; rows whose content changed since the last render are highlighted. */
function renderTable(tableId: string, versionId: string, state: LiveState<Row>, cells: (row: Row) => unknown[]): void {
  const body = document.querySelector(`#${tableId} tbody`);
  if (body === null) return;
  const before = new Map([...body.querySelectorAll('tr')].map((tr) => [tr.dataset['id'], tr.dataset['content']]));
  body.replaceChildren(
    ...state.rows.map((row) => {
      const tr = document.createElement('tr');
      const content = JSON.stringify(row);
      tr.dataset['id'] = row.id;
      tr.dataset['content'] = content;
      if (before.size > 0 && before.get(row.id) !== content) tr.className = 'fresh';
      tr.append(...cells(row).map(cell));
      return tr;
    }),
  );
  const version = document.getElementById(versionId);
  if (version !== null) version.textContent = `version ${state.version}, ${state.rows.length} rows, hash ${state.hash}`;
}

const users = followView<Row>(transport, subscription('usersList', USER_FIELDS), {
  onStatus: (status) => showStatus('usersList', status),
});
users.view.subscribe((state) =>
  renderTable('users', 'users-version', state, (r) => [r.id, r['name'], r['email'], r['role'], r['active'], r['age']]),
);
const posts = followView<Row>(transport, subscription('topPosts', POST_FIELDS), {
  onStatus: (status) => showStatus('topPosts', status),
});
posts.view.subscribe((state) =>
  renderTable('posts', 'posts-version', state, (r) => [
    r.id,
    r['title'],
    r['likes'],
    (r['author'] as { name?: string } | null)?.name ?? r['authorId'],
  ]),
);

async function mutate(query: string, variables: { [name: string]: unknown }): Promise<void> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors !== undefined && body.errors.length > 0) {
    throw new Error(body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  }
}

/** The form's filled-in fields: text as strings, numbers as integers, checkboxes as booleans. */
function fieldsOf(form: HTMLFormElement, numbers: readonly string[]): { [name: string]: unknown } {
  const fields: { [name: string]: unknown } = {};
  for (const input of form.querySelectorAll('input')) {
    if (input.name === 'id') continue;
    if (input.type === 'checkbox') fields[input.name] = input.checked;
    else if (input.value.trim() !== '') {
      fields[input.name] = numbers.includes(input.name) ? Number.parseInt(input.value, 10) : input.value.trim();
    }
  }
  return fields;
}

function wire(formId: string, errorId: string, type: 'User' | 'Post', numbers: readonly string[]): void {
  const form = document.getElementById(formId) as HTMLFormElement | null;
  const error = document.getElementById(errorId);
  if (form === null || error === null) return;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const op = ((event as SubmitEvent).submitter as HTMLButtonElement | null)?.value ?? 'create';
    const id = (form.elements.namedItem('id') as HTMLInputElement).value.trim();
    const fields = fieldsOf(form, numbers);
    let done: Promise<void>;
    if (op === 'create') {
      done = mutate(`mutation($input: Create${type}Input!) { create${type}(input: $input) { id } }`, {
        input: id === '' ? fields : { id, ...fields },
      });
    } else if (op === 'update') {
      done = mutate(`mutation($id: ID!, $patch: ${type}Patch!) { update${type}(id: $id, patch: $patch) { id } }`, {
        id,
        patch: fields,
      });
    } else done = mutate(`mutation($id: ID!) { delete${type}(id: $id) { id } }`, { id });
    error.textContent = '';
    done.then(
      () => form.reset(),
      (e: unknown) => {
        error.textContent = e instanceof Error ? e.message : String(e);
      },
    );
  });
}

wire('user-form', 'user-error', 'User', ['age']);
wire('post-form', 'post-error', 'Post', ['likes']);
