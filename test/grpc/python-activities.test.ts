/**
 * A TypeScript `async` orchestrator, registered in-process on the host that serves the sidecar, calls activities
 * that only a Python process implements: the Python worker (stubs from our `.proto`, no durabletask SDK) asks for
 * its activity names over `GetWorkItems`, runs real Python functions and answers with `CompleteActivityTask`. A
 * Python exception reaches the orchestrator as a `TaskFailedError` with the Python type and message; an activity
 * registered in-process next to them still runs here. Skipped (with the reason) when Python's grpc packages are
 * missing, except in CI, where their absence is a failure.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DFApp, TaskFailedError } from '../../src/index.js';
import { testStores } from '../support/stores.js';
import { startGrpcHost, waitForRegistration } from './grpc-harness.js';
import { generateStubs, pythonOrSkip } from './python/python-grpc.js';

const WORKER = fileURLToPath(new URL('./python/activity-worker.py', import.meta.url));
const PY_ACTIVITIES = ['pyTitle', 'pyParsePort'];

/** What the orchestrator saw of a failed Python activity. */
interface SeenFailure {
  isTaskFailed: boolean;
  errorType: string;
  message: string;
  stack: string | undefined;
}

function tsApp(url: string): DFApp {
  const app = new DFApp({ store: url });
  let exclaimedHere = 0;
  // In-process, next to the Python ones: must not be routed to the Python worker.
  app.activity('tsExclaim', (text: string) => `${text}! (${++exclaimedHere})`);
  app.orchestration('tsCallsPython', async (ctx) => {
    const title = (await ctx.callActivity('pyTitle', ctx.getInput<string>())) as string;
    const loud = await ctx.callActivity('tsExclaim', title);
    const ports = await Promise.all(['8080', '443'].map((p) => ctx.callActivity('pyParsePort', p)));
    const failures: SeenFailure[] = [];
    for (const bad of ['eighty', '70000']) {
      try {
        await ctx.callActivity('pyParsePort', bad);
      } catch (error) {
        const details = (error as TaskFailedError).failureDetails;
        failures.push({ isTaskFailed: error instanceof TaskFailedError, errorType: details?.errorType, message: details?.message, stack: details?.stack });
      }
    }
    return { title, loud, ports, failures };
  });
  return app;
}

/** The Python worker's stdout, one parsed JSON line each, once the worker has exited and its stdout is read. */
function pythonLines(child: ChildProcessWithoutNullStreams): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const reader = createInterface({ input: child.stdout });
  reader.on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  return new Promise((resolve) => reader.on('close', () => resolve(lines)));
}

for (const store of testStores()) {
  describe(`a TS async orchestrator calls Python activities over gRPC on ${store.name}`, () => {
    test('results and Python failures reach the orchestrator; history records every call', async (t) => {
      const python = pythonOrSkip(t);
      if (!python) return;
      const stubs = await generateStubs(python);
      const env = await startGrpcHost(store, tsApp);
      const worker = spawn(python, [WORKER, stubs, env.address], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const answered = pythonLines(worker);
      const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
      try {
        await waitForRegistration(env.storeUrl, PY_ACTIVITIES);
        const client = env.host.client;
        const id = await client.startNew('tsCallsPython', { input: 'hello from typescript' });
        const status = await client.waitForCompletion(id, { timeoutInMilliseconds: 30_000 });
        assert.equal(status.runtimeStatus, 'Completed', `orchestration ended ${status.runtimeStatus}: ${JSON.stringify(status.output)}; python stderr: ${stderr}`);
        const output = status.output as { title: string; loud: string; ports: number[]; failures: SeenFailure[] };
        assert.equal(output.title, 'Hello From Typescript'); // Python's str.title()
        assert.equal(output.loud, 'Hello From Typescript! (1)');
        assert.deepEqual(output.ports, [8080, 443]);
        assert.equal(output.failures.length, 2);
        const [notInt, outOfRange] = output.failures;
        assert.equal(notInt!.isTaskFailed, true);
        assert.equal(notInt!.errorType, 'ValueError');
        assert.equal(notInt!.message, "invalid literal for int() with base 10: 'eighty'");
        assert.match(notInt!.stack ?? '', /Traceback \(most recent call last\)[\s\S]*in py_parse_port/);
        assert.equal(outOfRange!.isTaskFailed, true);
        assert.equal(outOfRange!.errorType, 'OverflowError');
        assert.equal(outOfRange!.message, 'port 70000 is out of range');

        // History: every call scheduled by name, in order; the Python failures recorded with their details.
        const full = await client.getStatus(id, { showHistory: true, showHistoryOutput: true });
        const history = full!.history! as unknown as Record<string, any>[];
        const scheduled = history.filter((e) => e.eventType === 'TaskScheduled');
        assert.deepEqual(scheduled.map((e) => e.name), ['pyTitle', 'tsExclaim', 'pyParsePort', 'pyParsePort', 'pyParsePort', 'pyParsePort']);
        assert.equal(history.filter((e) => e.eventType === 'TaskCompleted').length, 4);
        const failed = history.filter((e) => e.eventType === 'TaskFailed');
        assert.deepEqual(failed.map((e) => e.failureDetails?.errorType), ['ValueError', 'OverflowError']);
      } finally {
        worker.stdin.end(); // the worker exits when its stdin closes
        await exited;
        await env.stop();
        rmSync(stubs, { recursive: true, force: true });
      }
      assert.equal(await exited, 0, `python worker failed: ${stderr}`);
      // The Python process ran exactly the Python calls (and not the in-process one).
      const lines = await answered;
      const pyCalls = lines.filter((line) => line['name'] !== undefined);
      assert.deepEqual(pyCalls.map((line) => line['name']).sort(), ['pyParsePort', 'pyParsePort', 'pyParsePort', 'pyParsePort', 'pyTitle']);
      assert.deepEqual(pyCalls.map((line) => line['outcome']).sort(), ['OverflowError', 'ValueError', 'completed', 'completed', 'completed']);
      assert.deepEqual(lines.filter((line) => line['streamError'] !== undefined), []);
    });
  });
}
