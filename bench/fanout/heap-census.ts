/**
 * What an idle graphql-ws subscriber holds on our server's heap, by kind of object:
 * `npx tsx bench/fanout/heap-census.ts [subscribers]` (default 2,000).
 *
 * Starts the fan-out benchmark's server (bench/fanout/ours-server.ts) in a child process, takes
 * a heap snapshot with no subscriber and one with N `topPosts` subscribers (held by another
 * process), and prints the objects that grew, per subscriber, largest first. The snapshots are
 * V8's own (`v8.writeHeapSnapshot`), read here without a dependency.
 */
import { fork } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlReply, ControlRequest, Listening, SnapshotRequest } from './control.js';
import type { SubscriberReport } from './subscribers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const subscribers = Number(process.argv[2] ?? 2000);
const ROW = 'id authorId title published likes author { id name email role active age }';
const SUBSCRIPTION = `subscription { topPosts { view version kind hash removed added { ${ROW} } updated { ${ROW} } } }`;

const server = fork(path.join(here, 'ours-server.ts'), [], {
  execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const clients: ReturnType<typeof fork>[] = [];
try {
  const url = await new Promise<string>((resolve, reject) => {
    server.on('message', (message: Listening) => {
      if (message.type === 'listening') resolve(message.url);
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const heapBefore = await heapUsed();
  const before = await snapshot('before');
  const client = fork(path.join(here, 'subscribers.ts'), ['graphql-ws', url, String(subscribers), SUBSCRIPTION, '1'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  clients.push(client);
  await new Promise<void>((resolve, reject) =>
    client.on('message', (message: SubscriberReport) => {
      if (message.type === 'ready') resolve();
      if (message.type === 'failed') reject(new Error(message.error));
    }),
  );
  const heapAfter = await heapUsed();
  const after = await snapshot('after');
  process.stdout.write(
    `heap used per subscriber (after a full GC, as bench:fanout measures it): ${Math.round((heapAfter - heapBefore) / subscribers)} B\n`,
  );
  print(census(before), census(after));
} finally {
  for (const child of [...clients, server]) child.kill('SIGKILL');
}

/** The server's heap in use after a full GC. */
function heapUsed(): Promise<number> {
  return new Promise((resolve) => {
    server.on('message', function answered(message: ControlReply) {
      if (!('id' in message) || message.id !== -1) return;
      server.off('message', answered);
      resolve(message.value);
    });
    server.send({ id: -1, type: 'heap' } satisfies ControlRequest);
  });
}

/** Asks the server for a heap snapshot; returns the file's path. */
function snapshot(name: string): Promise<string> {
  const file = path.join(os.tmpdir(), `heap-census-${process.pid}-${name}.heapsnapshot`);
  return new Promise((resolve) => {
    server.on('message', function written(message: { type?: string }) {
      if (message.type !== 'snapshot-written') return;
      server.off('message', written);
      resolve(file);
    });
    server.send({ type: 'snapshot', file } satisfies SnapshotRequest);
  });
}

interface Tally {
  count: number;
  bytes: number;
}

/** Self size and count per (node type, name) in a snapshot file, which it then deletes. */
function census(file: string): Map<string, Tally> {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: {
      meta: { node_fields: string[]; node_types: [string[]]; location_fields: string[]; edge_fields: string[] };
    };
    nodes: number[];
    edges: number[];
    strings: string[];
    locations: number[];
  };
  rmSync(file);
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [
    number,
    number,
    number,
  ];
  // Where each closure was written (file:line:column), so anonymous ones are told apart.
  const edgeWidth = heap.snapshot.meta.edge_fields.length;
  const [edgeCountAt] = ['edge_count'].map((field) => fields.indexOf(field)) as [number];
  const [edgeNameAt, edgeTargetAt] = ['name_or_index', 'to_node'].map((field) =>
    heap.snapshot.meta.edge_fields.indexOf(field),
  ) as [number, number];
  const firstEdge = new Map<number, number>();
  for (let i = 0, edge = 0; i < heap.nodes.length; i += width) {
    firstEdge.set(i, edge);
    edge += (heap.nodes[i + edgeCountAt] as number) * edgeWidth;
  }
  const follow = (node: number, name: string): number | undefined => {
    const start = firstEdge.get(node) as number;
    for (let e = 0; e < (heap.nodes[node + edgeCountAt] as number); e++) {
      const edge = start + e * edgeWidth;
      if (heap.strings[heap.edges[edge + edgeNameAt] as number] === name) return heap.edges[edge + edgeTargetAt];
    }
    return undefined;
  };
  const fileOf = (closure: number): string => {
    const shared = follow(closure, 'shared');
    const script =
      shared === undefined ? undefined : (follow(shared, 'script') ?? follow(shared, 'script_or_debug_info'));
    const name = script === undefined ? undefined : follow(script, 'name');
    const file = name === undefined ? '?' : (heap.strings[heap.nodes[name + nameAt] as number] as string);
    return file.replace(/^.*node_modules\//, '').replace(/^.*\/work\/[^/]+\//, '');
  };
  // With CENSUS_DETAIL=1: objects and contexts by their property names, arrays and strings by what holds them.
  const retainer = new Map<number, string>();
  const holderOf = new Map<number, number>();
  if (process.env['CENSUS_DETAIL'] === '1') {
    for (let i = 0; i < heap.nodes.length; i += width) {
      const start = firstEdge.get(i) as number;
      const holder = `${types[heap.nodes[i + typeAt] as number]} ${heap.strings[heap.nodes[i + nameAt] as number]?.slice(0, 40)}`;
      for (let e = 0; e < (heap.nodes[i + edgeCountAt] as number); e++) {
        const edge = start + e * edgeWidth;
        const target = heap.edges[edge + edgeTargetAt] as number;
        if (retainer.has(target)) continue;
        const edgeName = heap.edges[edge + edgeNameAt] as number;
        const label = heap.edges[edge] === 1 || heap.edges[edge] === 4 ? '[]' : heap.strings[edgeName];
        retainer.set(target, `${holder}.${label}`);
        holderOf.set(target, i);
      }
    }
  }
  const detail = (node: number, type: string): string => {
    const name = heap.strings[heap.nodes[node + nameAt] as number];
    if (type === 'string') return '';
    if (name === 'Array' || name === 'Promise' || name === 'system / PropertyArray')
      return ` <- ${retainer.get(node) ?? '?'}`;
    if (type === 'array') {
      const holder = holderOf.get(node);
      return ` <- ${retainer.get(node) ?? '?'} <- ${holder === undefined ? '?' : retainer.get(holder)}`;
    }
    if (
      type === 'object' ||
      (type === 'hidden' && heap.strings[heap.nodes[node + nameAt] as number] === 'system / Context')
    ) {
      const start = firstEdge.get(node) as number;
      const names: string[] = [];
      for (let e = 0; e < Math.min(8, heap.nodes[node + edgeCountAt] as number); e++) {
        const edge = start + e * edgeWidth;
        const kind = heap.edges[edge] as number;
        if (kind === 0 || kind === 2) names.push(heap.strings[heap.edges[edge + edgeNameAt] as number] as string);
      }
      const context = name === 'system / Context' ? ` <- ${retainer.get(node) ?? '?'}` : '';
      return ` {${names.join(',')}}${context}`;
    }
    return ` <- ${retainer.get(node) ?? '?'}`;
  };
  const at = new Map<number, string>();
  const locationWidth = heap.snapshot.meta.location_fields.length;
  for (let i = 0; i < heap.locations.length; i += locationWidth) {
    const [node, , line, column] = heap.locations.slice(i, i + 4) as [number, number, number, number];
    at.set(node, `@${fileOf(node)}:${line + 1}:${column + 1}`);
  }
  const tallies = new Map<string, Tally>();
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt] as number] as string;
    let name = heap.strings[heap.nodes[i + nameAt] as number] as string;
    // Strings and code are told apart by kind, not by their text.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '';
    if (type === 'number') name = '';
    if (type === 'closure') name += at.get(i) ?? '';
    if (process.env['CENSUS_DETAIL'] === '1') name += detail(i, type);
    const key = `${type} ${name.slice(0, 120)}`;
    const tally = tallies.get(key) ?? { count: 0, bytes: 0 };
    tally.count++;
    tally.bytes += heap.nodes[i + sizeAt] as number;
    tallies.set(key, tally);
  }
  return tallies;
}

function print(before: Map<string, Tally>, after: Map<string, Tally>): void {
  const grown = [...after].map(([key, tally]) => {
    const old = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: (tally.count - old.count) / subscribers, bytes: (tally.bytes - old.bytes) / subscribers };
  });
  grown.sort((a, b) => b.bytes - a.bytes);
  const total = grown.reduce((sum, row) => sum + row.bytes, 0);
  process.stdout.write(`${subscribers} subscribers: ${Math.round(total)} B of self size per subscriber\n`);
  for (const row of grown.slice(0, Number(process.env['CENSUS_ROWS'] ?? 60))) {
    if (Math.abs(row.bytes) < 8) continue;
    process.stdout.write(
      `${String(Math.round(row.bytes)).padStart(7)} B ${row.count.toFixed(2).padStart(7)}×  ${row.key}\n`,
    );
  }
}
