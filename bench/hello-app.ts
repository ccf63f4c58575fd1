/** The "hello" app run by worker processes of the scale-out benchmark: 3 sequential no-op activities. */
import { DFApp } from '../src/index.js';

export const app = new DFApp(); // store: DURAFLOW_STORE or --store
app.activity('sayHello', (city: string) => `Hello ${city}!`);
app.orchestration('hello', function* (ctx) {
  return [yield ctx.callActivity('sayHello', 'Tokyo'), yield ctx.callActivity('sayHello', 'Seattle'), yield ctx.callActivity('sayHello', 'London')];
});
export default app;
