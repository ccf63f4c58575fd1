/**
 * The status JSON of the management API in its two formats:
 * - `functions` (default): Durable Functions' `StatusResponsePayload` field for field, with second-precision
 *   times and `historyEvents` as the extension's friendly projection (reference §3.3);
 * - `duraflow` (`format=duraflow`, used by the remote client): absent values omitted rather than null,
 *   millisecond times, and the raw history events, so a status survives the trip unchanged.
 */
import type { HistoryEvent } from '../sdk/history.js';
import { apiTime, statusJson } from '../client/http-management.js';
import type { DurableOrchestrationStatus } from '../sdk/durable-client.js';

/** Which status JSON a request asked for. */
export type StatusFormat = 'functions' | 'duraflow';

/** The status JSON of `status` in `format`. */
export function statusPayload(status: DurableOrchestrationStatus, format: StatusFormat): Record<string, unknown> {
  if (format === 'duraflow') {
    return {
      name: status.name,
      instanceId: status.instanceId,
      runtimeStatus: status.runtimeStatus,
      ...(status.version !== undefined ? { version: status.version } : {}),
      ...('input' in status && status.input !== undefined ? { input: status.input } : {}),
      ...(status.output !== undefined ? { output: status.output } : {}),
      ...(status.customStatus !== undefined ? { customStatus: status.customStatus } : {}),
      createdTime: status.createdTime.toISOString(),
      lastUpdatedTime: status.lastUpdatedTime.toISOString(),
      ...(status.failureDetails ? { failureDetails: status.failureDetails } : {}),
      ...(status.tags ? { tags: status.tags } : {}),
      ...(status.history ? { historyEvents: status.history } : {}),
    };
  }
  const { history, ...rest } = status;
  const json = statusJson(rest);
  if (history && status.runtimeStatus !== 'Pending') json['historyEvents'] = projectHistory(history);
  return json;
}

const parse = (text: string | undefined): unknown => (text === undefined ? undefined : (JSON.parse(text) as unknown));

/**
 * The extension's friendly history: `EventType` strings, scheduling rows folded into their completions as
 * `FunctionName` + `ScheduledTime` (+ `Input`), orchestrator start/complete markers dropped. Inputs and
 * results appear only when the status query asked for them (the client already removed them otherwise).
 */
export function projectHistory(events: readonly HistoryEvent[]): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  const out: Record<string, unknown>[] = [];
  const put = (row: Record<string, unknown>) => {
    for (const key of Object.keys(row)) if (row[key] === undefined) delete row[key];
    out.push(row);
  };
  for (const e of events) {
    const base = { EventType: e.eventType, Timestamp: apiTime(new Date(e.timestamp)) };
    switch (e.eventType) {
      case 'OrchestratorStarted':
      case 'OrchestratorCompleted':
        break;
      case 'TaskScheduled':
      case 'SubOrchestrationInstanceCreated':
        scheduled.set(e.eventId, e);
        break;
      case 'ExecutionStarted':
        put({ ...base, FunctionName: e.name, Version: e.version, Input: parse(e.input), ScheduledStartTime: e.scheduledStartTime, Tags: e.tags });
        break;
      case 'TaskCompleted':
      case 'TaskFailed':
      case 'SubOrchestrationInstanceCompleted':
      case 'SubOrchestrationInstanceFailed': {
        const origin = scheduled.get(e.taskScheduledId);
        const originInput = origin && 'input' in origin ? origin.input : undefined;
        put({
          ...base,
          TaskScheduledId: e.taskScheduledId,
          FunctionName: origin && 'name' in origin ? origin.name : undefined,
          InstanceId: origin?.eventType === 'SubOrchestrationInstanceCreated' ? origin.instanceId : undefined,
          ScheduledTime: origin ? apiTime(new Date(origin.timestamp)) : undefined,
          Input: parse(originInput),
          ...('result' in e ? { Result: parse(e.result) } : {}),
          ...('failureDetails' in e ? { Reason: e.failureDetails.message, Details: e.failureDetails.errorType, FailureDetails: e.failureDetails } : {}),
        });
        break;
      }
      case 'TimerCreated':
      case 'TimerFired':
        put({ ...base, FireAt: e.fireAt });
        break;
      case 'EventRaised':
        put({ ...base, Name: e.name, Input: parse(e.input) });
        break;
      case 'EventSent':
        put({ ...base, InstanceId: e.instanceId, Name: e.name, Input: parse(e.input) });
        break;
      case 'ExecutionCompleted':
        put({ ...base, OrchestrationStatus: e.orchestrationStatus, Result: parse(e.result), FailureDetails: e.failureDetails });
        break;
      case 'ExecutionTerminated':
        put({ ...base, Input: parse(e.input) });
        break;
      case 'ContinueAsNew':
        put({ ...base, Result: parse(e.result) });
        break;
      case 'ExecutionSuspended':
      case 'ExecutionResumed':
      case 'ExecutionRewound':
        put({ ...base, Reason: e.reason });
        break;
      case 'GenericEvent':
        put({ ...base, Data: e.data });
        break;
    }
  }
  return out;
}
