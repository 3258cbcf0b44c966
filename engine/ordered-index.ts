import { assert } from './errors.js';
import type { Window, WindowSource } from './operators/window.js';
import { RowOrder, type SortEntry } from './row-order.js';
import { BTree } from './sorted-index.js';
import type { OrderKey, Record, Row } from './types.js';
import { getPath, splitPath, valueKey } from './values.js';
import type { View } from './view.js';

/** A view whose top-k is a `Window` over one partition, and the bound it is filed under. */
export interface WindowSlot {
  readonly view: View;
  readonly window: Window;
  readonly partition: Partition;
  /** Tie-breaker among slots filed under equal bounds. */
  readonly seq: number;
  /** The bound it is filed under; undefined: filed as complete (reached by every change). */
  filed: SortEntry | undefined;
}

/**
 * One table's records in one view order, shared by every top-k view reading that table in
 * that order, and optionally split into partitions by the value at a path (a view filtering
 * `authorId eq 'u7'` reads only the `u7` partition). Owned by the circuit, counted by the
 * views using it (`users`) and dropped with the last.
 *
 * It also routes: each partition files its windows by their bound (the last row of a full
 * window), so a changed row visits only the windows whose bound it precedes or equals, plus
 * the windows holding every matching row. A change far below every window visits none.
 */
export class OrderedIndex {
  readonly table: string;
  readonly orderBy: readonly OrderKey[];
  /** The partitioning path, or undefined for one partition holding the whole table. */
  readonly partitionPath: string | undefined;
  readonly order: RowOrder;
  /** Views using it and not yet unregistered. */
  users = 0;
  readonly #steps: string[] | undefined;
  readonly #partitions = new Map<string, Partition>();
  #size = 0;

  constructor(
    table: string,
    orderBy: readonly OrderKey[],
    partitionPath: string | undefined,
    records: Iterable<Record>,
  ) {
    this.table = table;
    this.orderBy = orderBy;
    this.partitionPath = partitionPath;
    this.order = new RowOrder(orderBy);
    this.#steps = partitionPath === undefined ? undefined : splitPath(partitionPath);
    // Sorted first: appending in order is several times faster than inserting at random.
    const entries = [...records].map((record) => this.order.entry(record.id, record as Row));
    entries.sort(this.order.compare);
    for (const entry of entries) this.#partitionOf(entry.row, true).rows.set(entry, undefined);
    this.#size = entries.length;
  }

  /** Entries held (one per record) and partitions, for stats and leak checks. */
  get size(): number {
    return this.#size;
  }

  get partitions(): number {
    return this.#partitions.size;
  }

  /** The partition of `value` (a `valueKey`; '' when unpartitioned), created if absent. */
  partition(value: string): Partition {
    let partition = this.#partitions.get(value);
    if (partition === undefined) this.#partitions.set(value, (partition = new Partition(this.order, value)));
    return partition;
  }

  /** Drops a partition that holds no record and serves no window. */
  release(partition: Partition): void {
    if (partition.isEmpty && this.#partitions.get(partition.value) === partition)
      this.#partitions.delete(partition.value);
  }

  /**
   * Follows a stored change (before the windows see it, so that refills read the new state)
   * and lists the windows it can reach: those filed at or after the old or the new row.
   */
  apply(before: Record | undefined, after: Record | undefined, reach: (slot: WindowSlot) => void): void {
    const old = before === undefined ? undefined : this.order.entry(before.id, before as Row);
    const now = after === undefined ? undefined : this.order.entry(after.id, after as Row);
    const from = old === undefined ? undefined : this.#partitionOf(old.row, false);
    const to = now === undefined ? undefined : this.#partitionOf(now.row, true);
    if (from !== undefined && from === to) {
      from.reach(
        this.order.compare(old as SortEntry, now as SortEntry) <= 0 ? (old as SortEntry) : (now as SortEntry),
        reach,
      );
    } else {
      if (from !== undefined) from.reach(old as SortEntry, reach);
      if (to !== undefined) to.reach(now as SortEntry, reach);
    }
    if (from !== undefined) {
      if (!from.rows.delete(old as SortEntry)) assert(false, `ordered index of '${this.table}' lacks '${before?.id}'`);
      this.#size--;
      if (from !== to) this.release(from);
    }
    if (to !== undefined) {
      to.rows.set(now as SortEntry, undefined);
      this.#size++;
    }
  }

  #partitionOf(row: Row, create: boolean): Partition {
    const value = this.#steps === undefined ? '' : valueKey(getPath(row, this.#steps));
    const partition = create ? this.partition(value) : this.#partitions.get(value);
    assert(partition !== undefined, `ordered index of '${this.table}' has no partition '${value}'`);
    return partition;
  }
}

/** The rows of one partition in view order, and the windows reading them filed by bound. */
export class Partition implements WindowSource {
  readonly order: RowOrder;
  readonly value: string;
  readonly rows: BTree<SortEntry, undefined>;
  readonly #filed: BTree<WindowSlot, undefined>;
  readonly #complete = new Set<WindowSlot>();
  #windows = 0;

  constructor(order: RowOrder, value: string) {
    this.order = order;
    this.value = value;
    this.rows = new BTree<SortEntry, undefined>(undefined, order.compare);
    this.#filed = new BTree<WindowSlot, undefined>(
      undefined,
      (a, b) => order.compare(a.filed as SortEntry, b.filed as SortEntry) || a.seq - b.seq,
    );
  }

  get isEmpty(): boolean {
    return this.rows.size === 0 && this.#windows === 0;
  }

  get windows(): number {
    return this.#windows;
  }

  scan(after: SortEntry | undefined, take: (entry: SortEntry) => boolean): void {
    const low = after ?? this.rows.minKey();
    const high = this.rows.maxKey();
    if (low === undefined || high === undefined) return;
    const compare = this.order.compare;
    this.rows.forRange(low, high, true, (entry) => {
      if (after !== undefined && compare(entry, after) <= 0) return;
      if (take(entry)) return { break: true };
    });
  }

  /** Files a window under its current bound. */
  file(slot: WindowSlot): void {
    this.#windows++;
    this.#place(slot);
  }

  unfile(slot: WindowSlot): void {
    this.#windows--;
    this.#remove(slot);
  }

  /** Moves a window whose bound changed since it was filed. */
  refile(slot: WindowSlot): void {
    if (slot.window.bound === slot.filed) return;
    this.#remove(slot);
    this.#place(slot);
  }

  /** Lists the windows a change of `entry` can reach: bound at or after it, or complete. */
  reach(entry: SortEntry, visit: (slot: WindowSlot) => void): void {
    for (const slot of this.#complete) visit(slot);
    const high = this.#filed.maxKey();
    if (high === undefined) return;
    const probe = { filed: entry, seq: -1 } as WindowSlot;
    if (this.order.compare(entry, high.filed as SortEntry) > 0) return;
    this.#filed.forRange(probe, high, true, (slot) => {
      visit(slot);
    });
  }

  #place(slot: WindowSlot): void {
    slot.filed = slot.window.bound;
    if (slot.filed === undefined) this.#complete.add(slot);
    else this.#filed.set(slot, undefined);
  }

  #remove(slot: WindowSlot): void {
    if (slot.filed === undefined) this.#complete.delete(slot);
    else if (!this.#filed.delete(slot)) assert(false, `window of view '${slot.view.id}' was not filed`);
  }
}
