import type { Record as EngineRecord } from '../../engine/index.js';
import { createDatabase, postgresMissing, type TestDatabase } from '../postgres/helpers.js';
import { readStoreFile, tempDir } from './helpers.js';

/**
 * The stores the kill -9 durability suites run against: a SQLite file always, a fresh
 * PostgreSQL database of its own per test when 127.0.0.1:5432 answers (else those cases skip,
 * and `postgresMissing` says why in one line).
 */
export type StoreKind = 'sqlite' | 'postgres';

/** Where one test's server keeps its tables. */
export interface TestStore {
  readonly kind: StoreKind;
  /** The server flags that point at it (`--data FILE` or `--database URL`). */
  readonly args: readonly string[];
  /** Every record, by table then id, read directly (not through a server). */
  read(): Promise<Map<string, Map<string, EngineRecord>>>;
  /** Removes it (the file's directory, or the database with whatever still connects to it). */
  drop(): Promise<void>;
}

const missing = await postgresMissing();

/** Each store kind with, when its cases must skip, why. */
export const STORE_KINDS: readonly { readonly kind: StoreKind; readonly skip: string | undefined }[] = [
  { kind: 'sqlite', skip: undefined },
  { kind: 'postgres', skip: missing },
];

/** A fresh, empty store of `kind`. */
export async function createTestStore(kind: StoreKind, tables: readonly string[]): Promise<TestStore> {
  if (kind === 'sqlite') {
    const { dir, cleanup } = tempDir('durability-store-');
    const file = `${dir}/live.sqlite`;
    return {
      kind,
      args: ['--data', file],
      read: async () => readStoreFile(file),
      drop: async () => cleanup(),
    };
  }
  const database: TestDatabase = await createDatabase();
  return {
    kind,
    args: ['--database', database.url],
    read: async () => {
      const result = new Map<string, Map<string, EngineRecord>>();
      const existing = new Set(
        (
          await database.sql<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`)
        ).map((row) => row.name),
      );
      for (const table of tables) {
        if (!existing.has(table)) continue;
        // Columns of nullable fields hold NULL where a record has no value: as the server reads them.
        const rows = await database.sql<{ row: EngineRecord }>(`SELECT to_jsonb(t) AS row FROM "${table}" t`);
        result.set(table, new Map(rows.map(({ row }) => [row.id, row])));
      }
      return result;
    },
    drop: () => database.drop(),
  };
}
