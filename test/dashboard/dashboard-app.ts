/** The app the dashboard and CLI tests drive: chains, timers, a child, events (also in an async orchestrator), a failure, an entity. */
import { DFApp, type DFAppOptions } from '../../src/index.js';

/** Builds the test app on `store`; `apiKey` protects its host. */
export function createDashboardApp(store: string, apiKey?: string, options: Omit<DFAppOptions, 'store' | 'apiKey'> = {}): DFApp {
  const app = new DFApp({ httpAuthLevel: 'anonymous', ...options, store, ...(apiKey ? { apiKey } : {}) });
  app.activity('greet', async (name: string) => `Hello ${name}!`);
  app.activity('explode', async () => {
    throw new TypeError('the widget exploded');
  });
  app.orchestration('child', function* (ctx) {
    const name = ctx.getInput<string>();
    return yield ctx.callActivity('greet', name);
  });
  app.orchestration('pipeline', function* (ctx) {
    ctx.setCustomStatus({ step: 'greeting' });
    const a = yield ctx.callActivity('greet', 'Tokyo');
    const b = yield ctx.callActivity('greet', 'Seattle');
    ctx.setCustomStatus({ step: 'waiting' });
    yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 300));
    const c = yield ctx.callSubOrchestrator('child', 'London');
    ctx.setCustomStatus({ step: 'done' });
    return [a, b, c];
  });
  app.orchestration('approval', function* (ctx) {
    ctx.setCustomStatus('waiting for Approve');
    const decision = yield ctx.waitForExternalEvent('Approve');
    return { approved: decision };
  });
  // The same waiting written as an async function.
  app.orchestration('asyncApproval', async (ctx) => {
    ctx.setCustomStatus('waiting for Approve');
    const [decision, greeting] = await Promise.all([ctx.waitForExternalEvent('Approve'), ctx.callActivity('greet', 'async')]);
    return { approved: decision, greeting };
  });
  app.orchestration('echo', function* (ctx) {
    return ctx.getInput();
  });
  app.orchestration('broken', function* (ctx) {
    yield ctx.callActivity('explode');
  });
  app.entity('Counter', (ctx) => {
    const value = ctx.getState(() => 0) as number;
    if (ctx.operationName === 'add') ctx.setState(value + (ctx.getInput() as number));
    else if (ctx.operationName === 'get') ctx.setResult(value);
  });
  return app;
}

export default createDashboardApp(process.env['DURAFLOW_STORE'] ?? 'sqlite::memory:');
