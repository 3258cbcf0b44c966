import type { Row } from '../../engine/types.js';
import type { Change } from '../../engine/zset.js';

/** A change of weight +1: `row` enters under `key`. */
export const insert = (key: string, row: Row): Change => ({ key, row, weight: 1 });

/** A change of weight -1: `row`, as it was inserted, leaves `key`. */
export const retract = (key: string, row: Row): Change => ({ key, row, weight: -1 });
