import { createHash } from 'node:crypto';

/** Retired signatures remembered (about 100 bytes each); older ones raise the floor instead. */
const DEFAULT_REMEMBERED = 100_000;

/**
 * Where a view created on demand starts counting its versions: at the run's base version, or
 * just above the last version an earlier view of the same signature reached in this run —
 * never at the global count of requests, which would let any viewer count writes to rows it
 * cannot see by opening a new view.
 *
 * What a start must guarantee: no version of a signature is issued twice with different
 * contents (a client resuming with `sinceVersion` would get deltas for a copy it does not
 * hold). Earlier runs issued only versions below `base` (see `VersionClock`). In this run a
 * view's versions never pass the clock's `now()` (it starts at or below it, and both count at
 * most one per request), so the start is capped at `now()`: it can only reach the cap when the
 * earlier view's last version equals `now()`, that is when no request was applied since it was
 * last changed — the new view's result is then exactly the earlier one's at that version.
 *
 * The last versions are kept per signature digest for the `remembered` most recently retired
 * signatures; when one is forgotten, the floor rises above its last version (so a start only
 * depends on other signatures after that many distinct views were retired).
 */
export class StartVersions {
  readonly #retired = new Map<string, number>();
  readonly #remembered: number;
  /** Every start is at least this. */
  #floor: number;

  constructor(base: number, remembered = DEFAULT_REMEMBERED) {
    this.#floor = base;
    this.#remembered = remembered;
  }

  /** The version a new view of `signature` starts at, `now` being the clock's `now()`. */
  start(signature: string, now: number): number {
    const last = this.#retired.get(digest(signature));
    return Math.min(Math.max(this.#floor, last === undefined ? 0 : last + 1), now);
  }

  /** Remembers the last version a view of `signature` reached, when it is unregistered. */
  retire(signature: string, version: number): void {
    const key = digest(signature);
    this.#retired.delete(key); // re-inserted last: the Map's order is the order of retirement
    this.#retired.set(key, version);
    if (this.#retired.size <= this.#remembered) return;
    const [oldest, last] = this.#retired.entries().next().value as [string, number];
    this.#retired.delete(oldest);
    this.#floor = Math.max(this.#floor, last + 1);
  }
}

/** 132 bits of SHA-256: signatures can be long, and collisions are not a concern at that width. */
function digest(signature: string): string {
  return createHash('sha256').update(signature).digest('base64url').slice(0, 22);
}
