/**
 * Durable Functions' management URLs and the responses built from them (check-status 202, status JSON).
 */
import { isTerminalStatus } from '../sdk/history.js';
import { ValidationError } from '../sdk/errors.js';
import type { DurableOrchestrationStatus, HttpManagementPayload } from '../sdk/durable-client.js';

/** Where the management API lives: the origin, the task hub, and the key (if one is required). */
export interface ManagementLocation {
  origin: string;
  taskHub: string;
  apiKey?: string;
}

/** The management URLs of an instance, as the Durable Functions extension builds them. */
export function managementPayload(location: ManagementLocation, instanceId: string): HttpManagementPayload {
  const base = `${location.origin.replace(/\/$/, '')}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}`;
  const common = `taskHub=${encodeURIComponent(location.taskHub)}&connection=Storage${location.apiKey ? `&code=${encodeURIComponent(location.apiKey)}` : ''}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${base}?${common}`,
    sendEventPostUri: `${base}/raiseEvent/{eventName}?${common}`,
    terminatePostUri: `${base}/terminate?reason={text}&${common}`,
    rewindPostUri: `${base}/rewind?reason={text}&${common}`,
    purgeHistoryDeleteUri: `${base}?${common}`,
    restartPostUri: `${base}/restart?${common}`,
    suspendPostUri: `${base}/suspend?reason={text}&${common}`,
    resumePostUri: `${base}/resume?reason={text}&${common}`,
  };
}

/** The origin to put in management URLs: the request's when there is one. */
export function originOf(request: Request | undefined, fallback: string): string {
  if (!request) return fallback;
  try {
    return new URL(request.url).origin;
  } catch {
    return fallback;
  }
}

/** 202 with the check-status payload, `Location` and `Retry-After` (the extension omits the rewind URL here). */
export function checkStatusResponse(payload: HttpManagementPayload): Response {
  const { rewindPostUri: _omitted, ...body } = payload;
  return new Response(JSON.stringify(body), {
    status: 202,
    headers: { 'content-type': 'application/json', location: payload.statusQueryGetUri, 'retry-after': '10' },
  });
}

/** A time as the HTTP API shows it: `yyyy-MM-ddTHH:mm:ssZ`. */
export function apiTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The status JSON of the HTTP API (`StatusResponsePayload`). */
export function statusJson(status: DurableOrchestrationStatus): Record<string, unknown> {
  return {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    ...(status.version !== undefined ? { version: status.version } : {}),
    input: status.input ?? null,
    customStatus: status.customStatus ?? null,
    output: status.output ?? null,
    createdTime: apiTime(status.createdTime),
    lastUpdatedTime: apiTime(status.lastUpdatedTime),
    ...(status.failureDetails ? { failureDetails: status.failureDetails } : {}),
    ...(status.tags ? { tags: status.tags } : {}),
    ...(status.history ? { historyEvents: status.history } : {}),
  };
}

/** The response of `waitForCompletionOrCreateCheckStatusResponse` for a status seen at the end of the wait. */
export function completionResponse(status: DurableOrchestrationStatus, payload: HttpManagementPayload): Response {
  const json = (body: unknown, code: number) =>
    new Response(JSON.stringify(body ?? null), { status: code, headers: { 'content-type': 'application/json' } });
  if (status.runtimeStatus === 'Completed') return json(status.output, 200);
  if (status.runtimeStatus === 'Failed') return json(statusJson(status), 500);
  if (isTerminalStatus(status.runtimeStatus)) return json(statusJson(status), 200);
  return checkStatusResponse(payload);
}

/** Checks the options of `waitForCompletionOrCreateCheckStatusResponse`. */
export function checkWaitOptions(timeout: number, retryInterval: number): void {
  if (!(timeout >= 0) || !(retryInterval > 0)) throw new ValidationError('timeout and retry interval must be positive numbers.');
  if (retryInterval > timeout) {
    throw new ValidationError(`retryIntervalInMilliseconds (${retryInterval}) must not be greater than timeoutInMilliseconds (${timeout}).`);
  }
}

/**
 * `waitForCompletionOrCreateCheckStatusResponse` for any client: waits up to the timeout, then answers with
 * the outcome (200/500) or, while the instance still runs, the check-status 202.
 */
export async function waitForCompletionOrCheckStatus(
  client: { waitForCompletion(id: string, options: { timeoutInMilliseconds: number }): Promise<DurableOrchestrationStatus> },
  location: ManagementLocation,
  instanceId: string,
  options: { timeoutInMilliseconds?: number; retryIntervalInMilliseconds?: number } = {},
): Promise<Response> {
  const timeout = options.timeoutInMilliseconds ?? 10_000;
  checkWaitOptions(timeout, options.retryIntervalInMilliseconds ?? 1000);
  const status = await client.waitForCompletion(instanceId, { timeoutInMilliseconds: timeout });
  return completionResponse(status, managementPayload(location, instanceId));
}
