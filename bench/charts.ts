/**
 * `npm run bench:charts`: renders the results of `bench:peers`, `bench:scale` and
 * `bench:memory` (bench/results/*.json) as PNG charts beside them, offline: Vega-Lite
 * compiles each spec to Vega, Vega renders SVG (headless, no canvas), resvg (a Rust SVG
 * renderer whose binary ships inside its npm package) rasterises it with the system fonts.
 * A missing results file only skips its charts. It also regenerates bench/results/PERFORMANCE.md,
 * the README's performance section (tables, links to the charts, commands), from the same files.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import {
  type ManyViewsJson,
  type MemoryJson as MemorySection,
  type PeersJson as PeersSection,
  performanceSection,
  type ScaleJson as ScaleSection,
} from './performance.js';

const RESULTS = 'bench/results';
const FONT = 'DejaVu Sans';

type Spec = vl.TopLevelSpec;

async function render(file: string, spec: Spec): Promise<void> {
  const config: vl.Config = {
    font: FONT,
    background: 'white',
    padding: 12,
    title: { fontSize: 15, anchor: 'start', subtitleFontSize: 11, subtitleColor: '#555' },
    axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
    legend: {
      labelFontSize: 11,
      titleFontSize: 12,
      orient: 'bottom',
      direction: 'horizontal',
      labelLimit: 400,
      titleLimit: 400,
      symbolOpacity: 1,
    },
  };
  const compiled = vl.compile({ ...spec, config: { ...config, ...(spec.config ?? {}) } } as Spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: FONT },
  })
    .render()
    .asPng();
  const out = path.join(RESULTS, file);
  writeFileSync(out, png);
  console.log(`wrote ${out} (${(png.length / 1024).toFixed(0)} KiB)`);
}

/** Nanoseconds, readable (as in the markdown reports). */
function duration(ns: number): string {
  if (ns < 1e3) return `${ns.toPrecision(3)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  return `${(ns / 1e9).toPrecision(3)} s`;
}

function ratio(x: number): string {
  return x >= 100 ? `${Math.round(x).toLocaleString('en-US')}×` : `${x.toPrecision(3)}×`;
}

function readJson<T>(name: string): T | undefined {
  const file = path.join(RESULTS, name);
  if (!existsSync(file)) {
    console.log(`skipped charts of ${name}: run the benchmark that writes it first`);
    return undefined;
  }
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

interface Summary {
  p50: number;
  p99: number;
}

// ---- peers

interface PeersJson {
  config: { rows: number };
  results: {
    title: string;
    change: string;
    systems: { circuit: { summary: Summary }; tanstack: { summary: Summary }; recompute: { summary: Summary } };
    ratios: { tanstack: { p50: number }; recompute: { p50: number } };
  }[];
}

async function peersCharts(peers: PeersJson): Promise<void> {
  const order = peers.results.map((r) => r.title);
  const systems = [
    ['circuit', 'Circuit (ours)'],
    ['tanstack', 'TanStack DB 0.15 (BTree indexes)'],
    ['recompute', 'Recompute (plain evaluator)'],
  ] as const;
  const latency = peers.results.flatMap((r) =>
    systems.map(([key, label]) => ({
      workload: r.title,
      system: label,
      micros: r.systems[key].summary.p50 / 1000,
      label: duration(r.systems[key].summary.p50),
    })),
  );
  await render('peers-latency.png', {
    title: {
      text: 'Latency of one change until every view is updated (p50, log scale)',
      subtitle: `${peers.config.rows.toLocaleString('en-US')}-row posts table; same data, same changes, interleaved in one process`,
    },
    data: { values: latency },
    width: 620,
    height: { step: 15 },
    layer: [
      { mark: { type: 'bar' } },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 },
        encoding: { x: { field: 'micros', type: 'quantitative' }, x2: null as never, text: { field: 'label' } },
      },
    ],
    encoding: {
      y: { field: 'workload', type: 'nominal', sort: order, title: null, axis: { labelLimit: 360 } },
      yOffset: { field: 'system', sort: systems.map(([, label]) => label) },
      // bars on a log scale need an explicit base (a log scale has no zero)
      x: {
        field: 'micros',
        type: 'quantitative',
        scale: { type: 'log', domainMin: 1 },
        title: 'microseconds per change (log)',
        axis: { format: '~s' },
      },
      x2: { datum: 1 },
      color: {
        field: 'system',
        type: 'nominal',
        sort: systems.map(([, label]) => label),
        title: null,
        scale: { range: ['#2b7bba', '#f28e2b', '#9d9d9d'] },
      },
    },
  });

  const speedups = peers.results.flatMap((r) => [
    {
      workload: r.title,
      against: 'vs TanStack DB (target ≥ 10×)',
      factor: r.ratios.tanstack.p50,
      target: 10,
      label: ratio(r.ratios.tanstack.p50),
      status: r.ratios.tanstack.p50 >= 10 ? 'target met' : 'target missed',
    },
    {
      workload: r.title,
      against: 'vs recompute (target ≥ 1,000×)',
      factor: r.ratios.recompute.p50,
      target: 1000,
      label: ratio(r.ratios.recompute.p50),
      status: r.ratios.recompute.p50 >= 1000 ? 'target met' : 'target missed',
    },
  ]);
  await render('peers-speedup.png', {
    title: {
      text: 'How many times faster the Circuit is (ratio of p50 latencies)',
      subtitle: 'dashed red line: the target',
    },
    data: { values: speedups },
    facet: { column: { field: 'against', type: 'nominal', title: null, header: { labelFontSize: 13 } } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 300,
      height: { step: 22 },
      layer: [
        {
          mark: { type: 'bar' },
          encoding: {
            color: {
              field: 'status',
              type: 'nominal',
              title: null,
              sort: ['target met', 'target missed'],
              scale: { domain: ['target met', 'target missed'], range: ['#2b7bba', '#e8743b'] },
            },
            y: { field: 'workload', type: 'nominal', sort: order, title: null, axis: { labelLimit: 360 } },
            x: {
              field: 'factor',
              type: 'quantitative',
              scale: { type: 'log', domainMin: 1 },
              title: 'times faster (log)',
              axis: { format: '~s' },
            },
            x2: { datum: 1 },
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
          encoding: {
            y: { field: 'workload', type: 'nominal', sort: order },
            x: { field: 'factor', type: 'quantitative' },
            text: { field: 'label' },
          },
        },
        {
          mark: { type: 'rule', color: '#d62728', strokeDash: [5, 3], strokeWidth: 1.5 },
          encoding: { x: { field: 'target', type: 'quantitative', aggregate: 'min' } },
        },
      ],
    },
  } as Spec);
}

// ---- scale

interface ScaleJson {
  rows: { kind: string; rows: number; latency: Summary; recompute?: Summary }[];
  views: { series: string; views: number; rows: number; latency: Summary }[];
}

async function scaleCharts(scale: ScaleJson): Promise<void> {
  const rows = scale.rows.flatMap((p) => [
    { kind: p.kind, rows: p.rows, system: 'incremental (Circuit)', micros: p.latency.p50 / 1000 },
    ...(p.recompute === undefined
      ? []
      : [{ kind: p.kind, rows: p.rows, system: 'recompute (evaluator)', micros: p.recompute.p50 / 1000 }]),
  ]);
  await render('scale-rows.png', {
    title: {
      text: 'One change as the table grows: incremental vs recompute (p50, log-log)',
      subtitle:
        'one view of each kind on the posts table; the evaluator joins by nested loops, so its join stops at 10k rows',
    },
    data: { values: rows },
    width: 560,
    height: 340,
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'rows',
        type: 'quantitative',
        scale: { type: 'log' },
        title: 'rows in the table (log)',
        axis: { format: '~s' },
      },
      y: {
        field: 'micros',
        type: 'quantitative',
        scale: { type: 'log' },
        title: 'microseconds per change (log)',
        axis: { format: '~s' },
      },
      color: { field: 'kind', type: 'nominal', title: 'view', sort: ['filter', 'top-k', 'join', 'group'] },
      strokeDash: {
        field: 'system',
        type: 'nominal',
        title: null,
        sort: ['incremental (Circuit)', 'recompute (evaluator)'],
      },
      shape: {
        field: 'system',
        type: 'nominal',
        title: null,
        sort: ['incremental (Circuit)', 'recompute (evaluator)'],
      },
    },
  });

  const viewRows = scale.views[0]?.rows ?? 0;
  await render('scale-views.png', {
    title: {
      text: 'One change as views on one table grow (p50 and p99)',
      subtitle: [
        `${viewRows.toLocaleString('en-US')}-row table; view i reads author i's posts, so a change is routed by index to its author's views;`,
        '"filter, score range": view i selects a score band (a range predicate, which needs a range index to be routed)',
      ],
    },
    data: {
      values: scale.views.map((p) => ({
        series: p.series,
        views: p.views,
        p50: p.latency.p50 / 1000,
        p99: p.latency.p99 / 1000,
      })),
    },
    width: 560,
    height: 340,
    layer: [
      {
        mark: { type: 'area', opacity: 0.12 },
        encoding: {
          x: {
            field: 'views',
            type: 'quantitative',
            scale: { type: 'log' },
            title: 'views on the table (log)',
            axis: { format: '~s' },
          },
          y: {
            field: 'p50',
            type: 'quantitative',
            scale: { type: 'log' },
            title: 'microseconds per change (log)',
            axis: { format: '~s' },
          },
          y2: { field: 'p99' },
          color: {
            field: 'series',
            type: 'nominal',
            title: 'views (band: p50–p99)',
            sort: ['filter', 'top-k', 'join', 'group', 'filter, score range'],
          },
        },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'views', type: 'quantitative', scale: { type: 'log' } },
          y: { field: 'p50', type: 'quantitative', scale: { type: 'log' } },
          color: {
            field: 'series',
            type: 'nominal',
            title: 'views (band: p50–p99)',
            sort: ['filter', 'top-k', 'join', 'group', 'filter, score range'],
          },
        },
      },
    ],
  } as Spec);
}

// ---- memory

interface MemoryJson {
  targetBytes: number;
  results: {
    rows: number;
    recordBytes: number;
    tableEntryBytes: number;
    views: { kind: string; per: string; bytesPerRow: number }[];
    tanstack?: { storedRowBytes: number; filterRowBytes: number };
  }[];
}

async function memoryCharts(memory: MemoryJson): Promise<void> {
  const values = memory.results.flatMap((r) => [
    {
      item: 'stored row (record + table entry)',
      size: `${r.rows.toLocaleString('en-US')} rows`,
      bytes: r.recordBytes + r.tableEntryBytes,
      group: 'stored',
    },
    ...r.views.map((v) => ({
      item: `${v.kind}, per ${v.per}`,
      size: `${r.rows.toLocaleString('en-US')} rows`,
      bytes: v.bytesPerRow,
      group: 'view',
    })),
  ]);
  const order = [...new Set(values.map((v) => v.item))];
  const sizes = memory.results.map((r) => `${r.rows.toLocaleString('en-US')} rows`);
  await render('memory.png', {
    title: {
      text: 'Memory per row: the stored row, and what each view adds on top',
      subtitle: `V8 heap after full GC; red line: the ${memory.targetBytes}-byte target for a view holding a row`,
    },
    width: 460,
    height: { step: 12 },
    data: { values },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'item', type: 'nominal', sort: order, title: null, axis: { labelLimit: 480 } },
          yOffset: { field: 'size', sort: sizes },
          x: { field: 'bytes', type: 'quantitative', title: 'bytes per row' },
          color: {
            field: 'size',
            type: 'nominal',
            title: 'table size',
            sort: sizes,
            scale: { range: ['#7fb8e0', '#2b7bba'] },
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 },
        encoding: {
          y: { field: 'item', type: 'nominal', sort: order },
          yOffset: { field: 'size', sort: sizes },
          x: { field: 'bytes', type: 'quantitative' },
          text: { field: 'bytes', type: 'quantitative', format: '.0f' },
        },
      },
      {
        data: { values: [{ target: memory.targetBytes }] },
        mark: { type: 'rule', color: '#d62728', strokeDash: [5, 3], strokeWidth: 1.5 },
        encoding: { x: { field: 'target', type: 'quantitative' } },
      },
    ],
  } as Spec);
}

const peers = readJson<PeersJson>('peers.json');
if (peers !== undefined) await peersCharts(peers);
const scale = readJson<ScaleJson>('scale.json');
if (scale !== undefined) await scaleCharts(scale);
const memory = readJson<MemoryJson>('memory.json');
if (memory !== undefined) await memoryCharts(memory);

const section = performanceSection(
  peers as PeersSection | undefined,
  scale as ScaleSection | undefined,
  memory as MemorySection | undefined,
  {
    memory: readJson<ManyViewsJson>('many-views-memory.json'),
    latency: readJson<ManyViewsJson>('many-views-latency.json'),
  },
);
writeFileSync(path.join(RESULTS, 'PERFORMANCE.md'), `${section.trimEnd()}\n`); // one final newline, as biome formats the README
console.log(`wrote ${path.join(RESULTS, 'PERFORMANCE.md')} (the README's performance section)`);
