import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadConfigFiles } from './load.ts';
import type { ConfigLoadOptions, ConfigPaths, ConfigSnapshot } from './load.ts';

export interface WatchConfigOptions extends ConfigPaths, ConfigLoadOptions {
  /** A new, valid snapshot is in force. `previous` is the one it replaced. */
  onChange(snapshot: ConfigSnapshot, previous: ConfigSnapshot): void;
  /** A reload failed; the last good snapshot stays in force. The caller should log loudly. */
  onError(err: Error): void;
  /** Quiet period after the last file event before reloading (editors write in bursts). */
  debounceMs?: number;
  /** An already loaded snapshot of the same paths (skips the first load). */
  initial?: ConfigSnapshot;
  /**
   * Checks that need more than the files (e.g. executor destinations against the deployment's
   * allow-list). Problems reject the snapshot like a parse error: at start it throws, on
   * reload the last good snapshot stays.
   */
  validate?: (snapshot: ConfigSnapshot) => string[];
}

export interface ConfigWatcher {
  current(): ConfigSnapshot;
  close(): void;
}

/** Both files read well, but the service's own checks (`validate`) refuse them together. */
export class ConfigRejectedError extends Error {
  constructor(readonly problems: string[]) {
    super(`configuration rejected:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigRejectedError';
  }
}

/**
 * Load both files, then keep them current. Throws (ConfigError) if the first load fails:
 * starting without a valid policy is not an option. Afterwards a bad edit never replaces a
 * good snapshot; it is reported through onError and the previous policy keeps deciding.
 */
export function watchConfig(options: WatchConfigOptions): ConfigWatcher {
  const paths = { policyPath: resolve(options.policyPath), directoryPath: resolve(options.directoryPath) };
  const debounceMs = options.debounceMs ?? 100;
  const checked = (candidate: ConfigSnapshot): ConfigSnapshot => {
    const problems = options.validate?.(candidate) ?? [];
    if (problems.length > 0) throw new ConfigRejectedError(problems);
    return candidate;
  };
  const load = () => loadConfigFiles(paths, { channels: options.channels });
  let snapshot = checked(options.initial ?? load());
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const report = (err: unknown) => {
    if (!closed) options.onError(err instanceof Error ? err : new Error(String(err)));
  };

  const reload = () => {
    if (closed) return;
    let next: ConfigSnapshot;
    try {
      next = checked(load());
    } catch (err) {
      report(err);
      return;
    } finally {
      // The file may have been replaced: re-attach the per-file watchers to the new inode.
      if (!closed) attachFileWatchers();
    }
    // Editors and `git checkout` fire several events per save; only real content changes count.
    if (next.policy.digest === snapshot.policy.digest && next.directory.digest === snapshot.directory.digest) return;
    const previous = snapshot;
    snapshot = next;
    options.onChange(next, previous);
  };

  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      reload();
    }, debounceMs);
  };

  // Watch the directories as well as the files: editors and Kubernetes ConfigMaps replace a
  // file by rename, which a watcher on the old file never sees. Any event in the directory
  // schedules a reload; unchanged digests make spurious ones free.
  const dirWatchers = [...new Set([dirname(paths.policyPath), dirname(paths.directoryPath)])].map((dir) => {
    const w = watch(dir, { persistent: false }, schedule);
    w.on('error', report);
    return w;
  });

  let fileWatchers: FSWatcher[] = [];
  function attachFileWatchers() {
    for (const w of fileWatchers) w.close();
    fileWatchers = [];
    for (const file of new Set([paths.policyPath, paths.directoryPath])) {
      try {
        const w = watch(file, { persistent: false }, schedule);
        w.on('error', report);
        fileWatchers.push(w);
      } catch (err) {
        // Mid-replace the file can be briefly absent; the directory watcher still covers it and
        // the next reload re-attaches. Anything else is a real problem worth reporting.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') report(err);
      }
    }
  }
  attachFileWatchers();

  return {
    current: () => snapshot,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of [...dirWatchers, ...fileWatchers]) w.close();
      fileWatchers = [];
    },
  };
}
