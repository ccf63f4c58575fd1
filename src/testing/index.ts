/**
 * `duraflow/testing`: unit-test orchestrations, activities and entities in milliseconds.
 *
 * - {@link createTestHost}: an app on an in-memory store with a virtual clock that skips timers, with
 *   per-host mocks and a record of every call.
 * - {@link replayHistory} / {@link assertReplayable}: check that today's orchestrator code still replays
 *   histories recorded from real instances.
 * - {@link replayCheck}: the pre-deploy gate — replays every in-flight instance of a store (read-only) against
 *   the app's code and reports which would break.
 *
 * Nothing here keeps global state: every host owns its store, clock and mocks.
 * @packageDocumentation
 */
export { createTestHost } from './test-host.js';
export type { TestHost, TestHostOptions } from './test-host.js';
export type { FunctionCall, FunctionTarget } from './function-mocks.js';
/** Name of the built-in activity behind `ctx.callHttp`: `env.calls(HTTP_ACTIVITY_NAME)` lists the requests. */
export { HTTP_ACTIVITY_NAME } from '../core/durable-http.js';
export { replayHistory, replayHistoryAsync, assertReplayable, assertReplayableAsync, readHistoryFile, captureHistory, ReplayError } from './replay-history.js';
export type { RecordedHistory, ReplayResult, ReplayedStatus } from './replay-history.js';
export { replayCheck, IN_FLIGHT_STATUSES } from './replay-check.js';
export type { ReplayCheckOptions } from './replay-check.js';
export type { ReplayCheckReport, ReplayCheckResult } from '../sdk/replay-check-report.js';
