/**
 * Control of the PostgreSQL server the tests use, for tests that restart it (test/serial/ only: a restart
 * breaks whatever else uses the server). Needs root, a local server and Debian's `pg_ctlcluster`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from './child-processes.js';
import { PG_TEST_URL } from './postgres.js';
import { postgresTestStore } from './postgres-test-store.js';

const run = promisify(execFile);

const server = new URL(PG_TEST_URL);
const host = server.hostname || '127.0.0.1';
const port = server.port || '5432';

/** Restarts the test server and starts it again after a failure. */
export interface ServerControl {
  /** Restarts the cluster (`pg_ctlcluster … restart`) and fails unless it accepts connections afterwards. */
  restart(): Promise<void>;
  /** Starts the cluster again if it does not accept connections (a test that failed mid-restart). */
  ensureUp(): Promise<void>;
}

/** True when the test server accepts connections. */
export async function serverReady(): Promise<boolean> {
  try {
    await run('pg_isready', ['-h', host, '-p', port, '-t', '5'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * A {@link ServerControl} for the cluster serving the tests (found by its port in `pg_lsclusters`), or why
 * the server cannot be restarted here.
 */
export async function serverControl(): Promise<ServerControl | { unavailable: string }> {
  if (!postgresTestStore) return { unavailable: 'PostgreSQL is unreachable' };
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) return { unavailable: `the test server ${host} is not local` };
  if (process.getuid?.() !== 0) return { unavailable: 'restarting the server needs root' };
  let clusters: string;
  try {
    clusters = (await run('pg_lsclusters', ['--no-header'], { timeout: 10_000 })).stdout;
  } catch (error) {
    return { unavailable: `pg_lsclusters is not usable (not a Debian PostgreSQL install?): ${(error as Error).message}` };
  }
  // Columns: version, cluster, port, status, owner, data directory, log file.
  const mine = clusters
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[2] === port && cols[3] === 'online');
  if (mine.length !== 1) return { unavailable: `no single online cluster on port ${port} in pg_lsclusters:\n${clusters}` };
  const [version, name] = mine[0]!;
  // --skip-systemctl-redirect: containers have no systemd; pg_ctlcluster then drives pg_ctl itself.
  const args = (action: string) => ['--skip-systemctl-redirect', version!, name!, action];
  try {
    await run('pg_ctlcluster', args('status'), { timeout: 10_000 }); // exits 0 only while the cluster runs
  } catch (error) {
    return { unavailable: `pg_ctlcluster is not usable: ${(error as Error).message}` };
  }
  return {
    async restart() {
      await run('pg_ctlcluster', args('restart'), { timeout: 120_000 });
      if (!(await serverReady())) throw new Error('the PostgreSQL server does not accept connections after its restart');
    },
    async ensureUp() {
      if (await serverReady()) return;
      await run('pg_ctlcluster', args('start'), { timeout: 60_000 }).catch(() => undefined);
      await waitFor(() => serverReady(), 60_000, 'the PostgreSQL server to accept connections again');
    },
  };
}
