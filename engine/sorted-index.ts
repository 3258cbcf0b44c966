import sortedBtree from 'sorted-btree';

/**
 * sorted-btree's B+ tree, the engine's one ordered index (top-k candidates, min/max
 * multisets). The package is CommonJS with the class as `exports.default`: Node's ESM loader
 * wraps it once more (the class is `.default`), vitest's loader does not.
 */
export const BTree: typeof sortedBtree.default =
  (sortedBtree as unknown as { default?: typeof sortedBtree.default }).default ??
  (sortedBtree as unknown as typeof sortedBtree.default);
export type BTree<K, V> = InstanceType<typeof sortedBtree.default<K, V>>;
