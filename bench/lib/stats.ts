/**
 * Small statistics helpers for benchmarks: latency samples in nanoseconds, percentiles
 * (nearest rank), and formatting of durations and rates. Generic: no engine imports.
 */

/** A growable buffer of latency samples in nanoseconds (no per-sample allocation). */
export class Samples {
  #values: Float64Array;
  #length = 0;

  constructor(capacity = 1024) {
    this.#values = new Float64Array(Math.max(1, capacity));
  }

  get length(): number {
    return this.#length;
  }

  add(nanoseconds: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = nanoseconds;
  }

  /** A sorted copy of the samples. */
  sorted(): Float64Array {
    return this.#values.slice(0, this.#length).sort();
  }

  summary(): Summary {
    return summarize(this.sorted());
  }
}

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
  readonly total: number;
}

/** Nearest-rank percentile (q in [0, 1]) of ascending values; NaN when empty. */
function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: ArrayLike<number>): number {
  return percentile(Float64Array.from(values as ArrayLike<number>).sort(), 0.5);
}

function summarize(sorted: ArrayLike<number>): Summary {
  let total = 0;
  for (let i = 0; i < sorted.length; i++) total += sorted[i] as number;
  return {
    count: sorted.length,
    min: sorted.length === 0 ? Number.NaN : (sorted[0] as number),
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
    total,
  };
}

/** Nanoseconds since an arbitrary origin, as a number (exact below 2^53 ns ≈ 104 days). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** The median cost of one `process.hrtime.bigint()` pair, to read small latencies against. */
export function timerOverheadNs(iterations = 200_000): number {
  const samples = new Samples(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    const end = process.hrtime.bigint();
    samples.add(Number(end - start));
  }
  return samples.summary().p50;
}

/** Formats nanoseconds in the most readable unit (ns, µs, ms, s) with ~3 significant digits. */
export function formatDuration(nanoseconds: number): string {
  if (!Number.isFinite(nanoseconds)) return '–';
  if (nanoseconds < 1_000) return `${significant(nanoseconds)} ns`;
  if (nanoseconds < 1_000_000) return `${significant(nanoseconds / 1_000)} µs`;
  if (nanoseconds < 1_000_000_000) return `${significant(nanoseconds / 1_000_000)} ms`;
  return `${significant(nanoseconds / 1_000_000_000)} s`;
}

/** Nanoseconds as microseconds with ~3 significant digits (no unit). */
export function formatMicros(nanoseconds: number): string {
  return Number.isFinite(nanoseconds) ? significant(nanoseconds / 1_000) : '–';
}

/** A count per second, grouped in thousands (`1,234,000`). */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '–';
  return Math.round(perSecond).toLocaleString('en-US');
}

/** A ratio as `1,234×`, `12.3×` or `1.23×`. */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '–';
  return `${ratio >= 100 ? Math.round(ratio).toLocaleString('en-US') : significant(ratio)}×`;
}

/** ~3 significant digits, without exponent notation. */
export function significant(value: number, digits = 3): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value >= 10 ** digits ? Math.round(value).toLocaleString('en-US') : value.toFixed(decimals);
}
