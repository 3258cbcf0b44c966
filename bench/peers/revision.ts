import { execFileSync } from 'node:child_process';

/** The commit the engine was measured at, and whether engine/ differed from it (or `ENGINE_REVISION`). */
export function engineRevision(): string {
  // A copy of the tree outside git (for example an exported commit) can say which it is.
  if (process.env.ENGINE_REVISION !== undefined) return process.env.ENGINE_REVISION;
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'engine'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return `commit ${sha}${dirty ? ', with uncommitted changes in engine/' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
