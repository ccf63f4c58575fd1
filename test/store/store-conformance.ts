/**
 * The one store conformance suite: every `HubStore` method through its contract. Each store
 * implementation runs it unchanged (see sqlite-store.test.ts and postgres-store.test.ts).
 *
 * The store is opened once per suite; every test works in a task hub of its own, so tests never
 * see each other's rows (which also exercises hub isolation throughout).
 */
import { after, before, describe } from 'node:test';
import type { Store } from '../../src/store/store.js';
import { activityConformance } from './conformance-activities.js';
import { clientConformance } from './conformance-client.js';
import type { StoreUnderTest } from './conformance-fixtures.js';
import { hubConformance } from './conformance-hubs.js';
import { instanceListConformance } from './conformance-instance-list.js';
import { livenessConformance } from './conformance-liveness.js';
import { metricsConformance } from './conformance-metrics.js';
import { orchestrationConformance } from './conformance-orchestrations.js';
import { tagConformance } from './conformance-tags.js';
import { versionConformance } from './conformance-versions.js';
import { scheduleConformance } from './conformance-schedules.js';
import { flowConformance } from './conformance-flow.js';
import { continuedLeaseConformance } from './conformance-continued.js';
import { childInstancesConformance } from './conformance-children.js';
import { fusedStartConformance } from './conformance-fused.js';
import { racingClaimsConformance } from './conformance-racing-claims.js';

/** Declares the conformance suite for the store that `makeStore` opens. */
export function storeConformanceSuite(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`store conformance: ${name}`, () => {
    let underTest: StoreUnderTest | undefined;
    const store = (): Store => {
      if (!underTest) throw new Error('the store under test is not open');
      return underTest.store;
    };
    before(async () => {
      underTest = await makeStore();
    });
    after(async () => {
      await underTest?.cleanup();
    });
    clientConformance(store);
    orchestrationConformance(store);
    activityConformance(store);
    hubConformance(store);
    livenessConformance(store);
    versionConformance(store);
    tagConformance(store);
    scheduleConformance(store);
    metricsConformance(store);
    instanceListConformance(store);
    flowConformance(store);
    continuedLeaseConformance(store);
    childInstancesConformance(store);
    fusedStartConformance(store);
    racingClaimsConformance(store);
  });
}
