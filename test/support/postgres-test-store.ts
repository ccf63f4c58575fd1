/**
 * The PostgreSQL test store: each `create()` is a fresh schema on the test server, dropped by `cleanup`.
 * Probed once at import: when the server is unreachable the store is left out (with a printed reason),
 * except in CI (CI=true), where it stays in and every test on it fails with the reason.
 */
import { newTestSchema, pgUnavailableReason } from './postgres.js';
import type { TestStore } from './stores.js';

const unavailable = await pgUnavailableReason();
const inCi = process.env['CI'] === 'true';

if (unavailable && !inCi) console.log(`# skipping PostgreSQL test stores: ${unavailable}`);

/** The PostgreSQL test store, or undefined when its tests are skipped. */
export const postgresTestStore: TestStore | undefined =
  unavailable && !inCi
    ? undefined
    : {
        name: 'postgres',
        async create() {
          if (unavailable) throw new Error(unavailable);
          const { url, drop } = newTestSchema();
          return { url, cleanup: drop };
        },
      };
