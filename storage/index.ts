/**
 * Storage: the tables' records in one SQLite file (better-sqlite3 v12), DESIGN §5, issue 4.
 *
 * File layout (storage format version 1, `SCHEMA_VERSION`):
 *   records(tbl TEXT, id TEXT, data TEXT  -- the record as JSON, PRIMARY KEY (tbl, id)) WITHOUT ROWID
 *   meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID
 *     format          'live-views-graphql/records' — tells our files from other SQLite files
 *     schema_version  '1' — any other value: INCOMPATIBLE_VERSION, file untouched
 *     epoch           incremented and committed at every open (1 for a new file); view versions
 *                     handed out by one run can carry it, so a client resuming with a version
 *                     from an earlier run is detected and gets a SNAPSHOT, never a wrong delta
 *     created_at, opened_at   ISO timestamps; other keys are free (`getMeta` / `setMeta`)
 * One generic records table: a config that adds a table or a (nullable) field works on an
 * existing file unchanged. Records of a table that the config no longer lists stay in the file
 * (`tables()` lists what is stored; the server decides whether to ignore them or refuse).
 *
 * Guarantees
 * - Atomicity: `commit(changes)` (and every `transaction`) is one SQLite transaction: after a
 *   crash at any point, either all of it is in the file or none of it.
 * - Durability (`durability` option; WAL mode in both cases):
 *   'process' (default, synchronous=NORMAL): when `commit` returns, the transaction is in the WAL
 *     file (in the OS page cache): it survives the death of the process (kill -9, OOM kill,
 *     crash). It is NOT guaranteed to survive power loss, a kernel panic or a VM reset: the last
 *     commits before such an event may be lost — whole transactions, the file stays consistent.
 *   'power' (synchronous=FULL): the WAL is fsync'ed before `commit` returns: a returned commit also
 *     survives power loss, provided the disk honours fsync. Costs one fsync per transaction,
 *     which group commit (`GroupCommitter`) amortises.
 * - Exclusivity: the file is opened with `locking_mode=EXCLUSIVE` and an exclusive lock is taken
 *   by the open transaction and held until `close()`. A second server (any other process,
 *   including the sqlite3 shell) gets `LOCKED` and writes nothing; the OS releases the lock when
 *   the holder dies, so a crash never leaves a stale lock. (POSIX advisory locks: do not put the
 *   file on a network file system.) No -shm file is used.
 * - Refusals leave the file's bytes untouched: the SQLite header ('SQLite format 3\0') is checked
 *   with plain fs reads before SQLite opens the file (a 0-byte file counts as new); format,
 *   version and lock are checked inside the first transaction, before anything is written, and
 *   WAL mode is switched on only after. (One exception: an *incompatible* or foreign file left
 *   in WAL mode with a non-empty -wal file by a crash gets its WAL checkpointed when we close
 *   it — its content is preserved, its bytes may change.)
 * - The store does not re-check engine rules: CREATE and UPDATE are upserts, DELETE of a missing
 *   row is a no-op. Validation belongs to the engine (see the write path below).
 *
 * Intended wiring (server):
 *   start-up: store = openStore({ file, durability })      -- StoreError → message + exitCode
 *             circuit = new Circuit({ tables })
 *             for (const r of store.load()) circuit.ingestSingle(r.table, 'CREATE', r.id, r.data)
 *                                                         -- before any view: a plain Map insert
 *             register the configured views, then open the port; tag versions with store.epoch
 *   writes:   one GroupCommitter whose stage is `tx.write(changes); return circuit.ingestBatch(changes)`
 *             and whose `committed` hook publishes the updates; `commitFailed` exits the process
 *             (the engine is ahead of the file; a restart reloads the durable state). See
 *             group-commit.ts for why this order is exact and never shows a non-durable change.
 *   shutdown: committer.close(); store.close()
 */
export { StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export type { ChangeOp, Durability, JsonObject, JsonValue, Store, StoreChange, StoredRecord, StoreTransaction } from './types.js';
export { openStore, SCHEMA_VERSION, STORE_FORMAT, type StoreOptions } from './store.js';
export { GroupCommitter, type GroupCommitOptions, type GroupCommitStats } from './group-commit.js';
