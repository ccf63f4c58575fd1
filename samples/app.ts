/**
 * The sample app: every pattern in one DFApp (chaining, fan-out/fan-in and human interaction also as async functions), plus an HTTP route that starts any orchestration.
 * Run it with `npx duraflow start samples/app.ts`.
 */
import { DFApp } from '../src/index.js';
import { asyncStyle } from './async-style.js';
import { errorHandling } from './error-handling.js';
import { fanOutFanIn } from './fan-out-fan-in.js';
import { functionChaining } from './function-chaining.js';
import { humanInteraction } from './human-interaction.js';
import { monitor } from './monitor.js';

/** Builds the sample app on `store` (default: the DURAFLOW_STORE env, else .duraflow/duraflow.db). */
export function createSampleApp(store?: string): DFApp {
  const app = new DFApp({ ...(store ? { store } : {}), httpAuthLevel: 'anonymous' });
  for (const blueprint of [functionChaining, fanOutFanIn, monitor, humanInteraction, errorHandling, asyncStyle]) app.registerFunctions(blueprint);
  // POST /api/start/{name}: the body, if any, is the input as JSON (`curl -X POST …/api/start/helloCities`).
  app.route('start/{name}', async (req, client, params) => {
    const body = await req.text();
    let input: unknown;
    try {
      input = body.trim() === '' ? undefined : JSON.parse(body);
    } catch {
      const error = JSON.stringify({ error: 'The body is not JSON: send the input as JSON, or no body.' });
      return new Response(error, { status: 400, headers: { 'content-type': 'application/json' } });
    }
    const id = await client.startNew(params['name']!, { input });
    return client.createCheckStatusResponse(req, id);
  });
  return app;
}

export default createSampleApp();
