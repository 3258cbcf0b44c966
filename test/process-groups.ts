/**
 * Child processes for tests. Each runs as the leader of its own process group (`detached`),
 * so that killing the group also kills whatever it started (`npm start` → sh → node), and a
 * test never leaves one behind: every test file that starts processes runs
 * `afterEach(killProcessGroups)`, which SIGKILLs every group still alive — after a pass, a
 * failure or a timeout alike — and waits for the leaders to be gone. A worker that exits
 * without running its hooks still SIGKILLs them on its way out.
 *
 * Readiness is a line the process prints (`waitForLine`), never a fixed sleep: a busy 2-core
 * machine takes as long as it takes, and the test's own timeout is the only budget.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

export interface TestProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Also the process group id. */
  readonly pid: number;
  /** Complete stdout lines so far. */
  readonly lines: readonly string[];
  stderr(): string;
  /**
   * Resolves with the leader's exit code (null when a signal ended it) and that signal, once
   * its output is read to the end (when the processes it started hold on to the pipes, not before they are gone).
   */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly hasExited: boolean;
  /**
   * Resolves with the first stdout line that passes `test`; rejects once the output ended
   * without one (the process exited), or after `timeoutMs` when one is given.
   */
  waitForLine(test: (line: string) => boolean, options?: { timeoutMs?: number }): Promise<string>;
  /** Sends `signal` to the process alone, or to its whole group (as a terminal's Ctrl-C or `kill -- -pgid` does). */
  signal(signal: NodeJS.Signals, target?: 'process' | 'group'): void;
  /** SIGKILL to the whole group; resolves once every member closed its output (is gone). */
  killGroup(): Promise<void>;
}

const live = new Set<TestProcess>();

/** Spawns `command args` as a new process group, registered for `killProcessGroups`. */
export function spawnProcess(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number },
): TestProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: 'pipe',
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${command}`);
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  let err = '';
  let outputEnded = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    if (parts.length === 0) return;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (err += chunk));
  const closed = new Promise<void>((resolve) => {
    // Once every process of the group closed the pipes: no more output can come.
    child.on('close', () => {
      if (partial !== '') lines.push(partial);
      partial = '';
      outputEnded = true;
      for (const wake of waiters) wake();
      resolve();
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => void closed.then(() => resolve({ code, signal }))),
  );

  const processHandle: TestProcess = {
    child,
    pid,
    lines,
    stderr: () => err,
    exited,
    get hasExited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    waitForLine: (test, { timeoutMs } = {}) =>
      new Promise<string>((resolve, reject) => {
        let checked = 0;
        const timer =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => finish(new Error(`no such line within ${timeoutMs} ms${describe()}`)), timeoutMs);
        const finish = (error: Error | undefined, line?: string) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error === undefined) resolve(line as string);
          else reject(error);
        };
        // Only the lines not looked at yet: a chatty child (thousands of lines) stays linear.
        const check = () => {
          for (; checked < lines.length; checked++) {
            const line = lines[checked] as string;
            if (test(line)) return finish(undefined, line);
          }
          if (outputEnded) finish(new Error(`the process exited (${child.exitCode ?? child.signalCode})${describe()}`));
        };
        waiters.add(check);
        check();
      }),
    signal: (signal, target = 'process') => {
      if (target === 'group') process.kill(-pid, signal);
      else child.kill(signal);
    },
    killGroup: async () => {
      killGroupNow(pid);
      await closed;
      live.delete(processHandle);
    },
  };
  const describe = () => `; stdout: ${lines.slice(-20).join('\n')} stderr: ${err.slice(-4000)}`;
  // Stays registered after its leader exits: what it started may live on in its group.
  live.add(processHandle);
  return processHandle;
}

/** SIGKILLs every group a test started (leaders that exited included: their children may not have). */
export async function killProcessGroups(): Promise<void> {
  const all = [...live];
  await Promise.all(all.map((entry) => entry.killGroup()));
}

function killGroupNow(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch (error) {
    // ESRCH: nobody is left in the group.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

process.once('exit', () => {
  for (const entry of live) killGroupNow(entry.pid);
});
