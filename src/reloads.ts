/**
 * Reloads while serving: on SIGHUP, and (server.watch, --watch) when the config file, a model's file or a model
 * repository folder changes, the config is read again and the models made to match it (ModelRepository.reload: each
 * changed model is built beside the old one and switched to once ready). A config that no longer reads changes
 * nothing: the error is logged and the models keep serving.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import { entryFiles } from './config/entry-files.js';
import type { LoadedConfig } from './config/load.js';
import type { ModelRepository, ReloadReport } from './model/repository.js';

/** Changes closer together than this are one reload (an editor writes a file in several steps). */
export const WATCH_DEBOUNCE_MS = 300;

export interface ReloadOptions {
  readonly repository: ModelRepository;
  readonly logger: Logger;
  /** Reload on SIGHUP. */
  readonly onSignal: boolean;
  /** Watch the config's files; `current()` says which (it changes with each reload). */
  readonly watch: boolean;
  readonly current: () => LoadedConfig;
  /** Folders watched besides the config's own files (a model repository: a new model or version appears there). */
  readonly folders?: readonly string[];
  /** Settles once the models loaded at start have finished loading: a reload waits for it. */
  readonly started: Promise<void>;
}

export interface Reloads {
  /** Reloads now (what SIGHUP does); resolves with what changed, or undefined when the config did not read. */
  reload(why: string): Promise<ReloadReport | undefined>;
  /** Stops listening for signals and changes. */
  stop(): void;
}

export function installReloads(options: ReloadOptions): Reloads {
  const { repository, logger } = options;
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;

  const reload = async (why: string): Promise<ReloadReport | undefined> => {
    await options.started;
    logger.info({ why }, 'reloading the config');
    try {
      const report = await repository.reload();
      if (report.failed.length > 0) logger.error({ why, ...report }, 'reload finished; some models failed to load, and what served them before keeps serving');
      else if (report.loaded.length + report.unloaded.length > 0) logger.info({ why, ...report }, 'reload finished');
      else logger.info({ why }, 'reload finished: no model changed');
      if (report.needsRestart.length > 0) logger.warn({ sections: report.needsRestart }, `changed settings that apply only at the next start: ${report.needsRestart.join(', ')}`);
      return report;
    } catch (error) {
      logger.error({ why, err: error }, 'reload failed: the config did not read; every model keeps serving as before');
      return undefined;
    } finally {
      if (options.watch) rewatch();
    }
  };

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload('a watched file changed'), WATCH_DEBOUNCE_MS);
    timer.unref();
  };

  const rewatch = () => {
    for (const watcher of watchers) watcher.close();
    watchers = [];
    for (const folder of watchedFolders(options.current(), options.folders ?? [])) {
      try {
        const onChange = (_event: string, file: string | Buffer | null) => {
          if (folder.files === undefined || (file !== null && folder.files.has(basename(String(file))))) schedule();
        };
        const watcher = watch(folder.path, { persistent: false, recursive: folder.files === undefined }, onChange);
        watcher.on('error', () => undefined);
        watchers.push(watcher);
      } catch (error) {
        logger.warn({ folder: folder.path, err: error }, 'cannot watch this folder for changes');
      }
    }
  };

  const onSignal = () => void reload('SIGHUP');
  if (options.onSignal) process.on('SIGHUP', onSignal);
  if (options.watch) rewatch();
  return {
    reload,
    stop() {
      process.off('SIGHUP', onSignal);
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      watchers = [];
    },
  };
}

/**
 * What to watch: the folders of the config file and of each model's file, for those files only (editors replace a
 * file by renaming, so its folder is watched, not the file), and the model repository folder and each of `extra` as a whole.
 */
function watchedFolders(loaded: LoadedConfig, extra: readonly string[]): { path: string; files?: Set<string> }[] {
  const folders = new Map<string, Set<string> | undefined>();
  const add = (file: string) => {
    const folder = dirname(file);
    if (folders.has(folder) && folders.get(folder) === undefined) return;
    folders.set(folder, new Set([...(folders.get(folder) ?? []), basename(file)]));
  };
  for (const folder of [...extra, ...(loaded.modelRepository === undefined ? [] : [loaded.modelRepository])]) folders.set(resolve(folder), undefined);
  if (isAbsolute(loaded.file)) add(loaded.file);
  for (const entry of loaded.config.models) {
    for (const file of entryFiles(entry)) {
      const path = resolve(loaded.dir, file);
      // A Hugging Face folder's optional files (1_Pooling/, onnx/) may have no folder to watch.
      if (entry.runtime === 'transformers' && !existsSync(dirname(path))) continue;
      if (![...folders].some(([folder, files]) => files === undefined && path.startsWith(`${folder}/`))) add(path);
    }
  }
  return [...folders].map(([path, files]) => (files === undefined ? { path } : { path, files }));
}
