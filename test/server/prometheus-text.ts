/**
 * A strict reader of the Prometheus text format (0.0.4), enough to check what /metrics serves:
 * every sample belongs to a family announced by `# HELP` and `# TYPE` lines, names and labels
 * are well formed, values are numbers. Throws on anything else.
 */
interface Sample {
  readonly name: string;
  readonly labels: { readonly [name: string]: string };
  readonly value: number;
}

export interface Exposition {
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
  /** The value of the sample with this name and exactly these labels, or undefined. */
  value(name: string, labels?: { readonly [name: string]: string }): number | undefined;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
const SUFFIXES = ['_bucket', '_count', '_sum', '_total', '_created'];

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const where = `line ${index + 1}: ${line}`;
    if (line.startsWith('# HELP ')) {
      const name = line.slice(7).split(' ')[0] ?? '';
      if (!NAME.test(name)) throw new Error(`bad HELP: ${where}`);
      helps.add(name);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name = '', type = ''] = line.slice(7).split(' ');
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type))
        throw new Error(`bad TYPE: ${where}`);
      types.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`not a sample: ${where}`);
    const [, name = '', labelText = '', valueText = ''] = match;
    const family = types.has(name)
      ? name
      : SUFFIXES.map((s) => name.replace(new RegExp(`${s}$`), '')).find((n) => types.has(n));
    if (family === undefined || !helps.has(family)) throw new Error(`sample of no announced family: ${where}`);
    const labels: { [name: string]: string } = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < labelText.length) {
      const label = LABEL.exec(labelText);
      if (label === null) throw new Error(`bad labels: ${where}`);
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText); // NaN in any case, as Prometheus reads it
    if (Number.isNaN(value) && valueText.toLowerCase() !== 'nan') throw new Error(`bad value: ${where}`);
    samples.push({ name, labels, value });
  }
  return {
    types,
    samples,
    value(name, labels = {}) {
      const wanted = Object.entries(labels);
      return samples.find(
        (sample) =>
          sample.name === name &&
          Object.keys(sample.labels).length === wanted.length &&
          wanted.every(([key, value]) => sample.labels[key] === value),
      )?.value;
    },
  };
}
