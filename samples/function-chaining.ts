/** Function chaining: each activity's output is the next one's input. */
import { Blueprint } from '../src/index.js';

export const functionChaining = new Blueprint();

export const sayHello = functionChaining.activity('sayHello', async (city: string) => `Hello ${city}!`);

export const helloCities = functionChaining.orchestration('helloCities', function* (ctx) {
  const tokyo = yield* ctx.callActivity(sayHello, 'Tokyo');
  const seattle = yield* ctx.callActivity(sayHello, 'Seattle');
  const london = yield* ctx.callActivity(sayHello, 'London');
  return [tokyo, seattle, london];
});
