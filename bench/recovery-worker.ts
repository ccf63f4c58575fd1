/**
 * A worker process of the recovery benchmark: `recovery-worker.ts <store url> victim|rescuer`. Runs the recovery
 * app's worker with default options. The victim reports over IPC each `hold` activity it starts and each
 * `midEpisode` commit it withholds (answering `lease-lost` for it without writing, so the instance stays leased to
 * it and its loop goes on); the parent then SIGKILLs it.
 */
import type { EpisodeCommit, HubStore, Store } from '../src/store/store.js';
import { acquireStore } from '../src/store/open-store.js';
import { startWorker } from '../src/runtime/worker.js';
import { EPISODE_PREFIX, recoveryApp, type RecoveryMessage } from './recovery-app.js';

const [url, role] = process.argv.slice(2);
if (!url || (role !== 'victim' && role !== 'rescuer')) throw new Error('usage: recovery-worker.ts <store url> victim|rescuer');
const send = (message: RecoveryMessage) => process.send?.(message);
process.on('disconnect', () => process.exit(0));

/** `hub` with the commits of `midEpisode` instances withheld (answered `lease-lost`, nothing written). */
function withholdingEpisodes(hub: HubStore): HubStore {
  const commitEpisodes = async (commits: EpisodeCommit[]) => {
    const held = commits.filter((c) => c.lease.id.startsWith(EPISODE_PREFIX));
    const rest = commits.filter((c) => !c.lease.id.startsWith(EPISODE_PREFIX));
    const outcomes = new Map((await hub.commitEpisodes(rest)).map((outcome, i) => [rest[i]!, outcome]));
    for (const c of held) send({ type: 'held', kind: 'episode', instanceId: c.lease.id });
    return commits.map((c) => outcomes.get(c) ?? 'lease-lost');
  };
  return new Proxy(hub, {
    get(target, property) {
      if (property === 'commitEpisodes') return commitEpisodes;
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

try {
  const victim = role === 'victim';
  const app = recoveryApp(url, victim ? { onHeld: (instanceId) => send({ type: 'held', kind: 'activity', instanceId }) } : undefined);
  const { store } = await acquireStore(url);
  const hubs = new Map<string, HubStore>();
  const served: Store = victim
    ? new Proxy(store, {
        get(target, property) {
          if (property === 'hub') {
            return (name: string) => {
              if (!hubs.has(name)) hubs.set(name, withholdingEpisodes(target.hub(name)));
              return hubs.get(name)!;
            };
          }
          const value = Reflect.get(target, property) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      })
    : store;
  const worker = await startWorker(served, app.taskHub, app.registry);
  process.on('SIGTERM', () => void worker.stop().then(() => process.exit(0)));
  send({ type: 'ready', workerId: worker.workerId });
} catch (error) {
  send({ type: 'error', message: (error as Error).stack ?? String(error) });
  process.exitCode = 1;
}
