/**
 * The IPC between `bench/fanout.bench.ts` and its server children: each server answers the
 * same control messages, so the orchestrator measures the three alike.
 */
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type ControlRequest = { readonly id: number; readonly type: 'cpu' | 'heap' | 'subscribers' };
/** Asks for a heap snapshot written to `file` (bench/fanout/heap-census.ts); answered by `snapshot-written`. */
export type SnapshotRequest = { readonly type: 'snapshot'; readonly file: string };
export type ControlReply = { readonly id: number; readonly value: number };
/** The first message of a server child: where it listens. */
export type Listening = { readonly type: 'listening'; readonly url: string };

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Answers the orchestrator's control requests; `subscribers` counts what the server holds. */
export function answerControl(subscribers: () => number): void {
  process.on('message', (message: ControlRequest | SnapshotRequest) => {
    if (message.type === 'snapshot') {
      collect();
      writeHeapSnapshot(message.file);
      process.send?.({ type: 'snapshot-written' });
      return;
    }
    let value: number;
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      value = user + system;
    } else if (message.type === 'heap') {
      collect();
      collect();
      value = process.memoryUsage().heapUsed;
    } else value = subscribers();
    process.send?.({ id: message.id, value } satisfies ControlReply);
  });
  // The orchestrator going away ends the server too.
  process.on('disconnect', () => process.exit(0));
}

export function announce(url: string): void {
  process.send?.({ type: 'listening', url } satisfies Listening);
}
