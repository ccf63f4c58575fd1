/** The request that creates an instance with its ExecutionStarted event (every client starts through it). */
import { randomUUID } from 'node:crypto';
import { makeEvent, type TraceContext } from '../sdk/history.js';
import { checkStorableText } from '../sdk/instance-id.js';
import type { StartInstanceRequest } from './store.js';
import { checkTags, type InstanceTags } from '../sdk/tags.js';

/** What a start names. */
export interface StartFields {
  name: string;
  instanceId: string;
  /** JSON text. */
  input?: string | undefined;
  version?: string | undefined;
  /** Not run before this time (the start waits in the inbox). */
  scheduledStartTime?: Date | undefined;
  /** Checked here (`checkTags`), whichever way the start came in. */
  tags?: InstanceTags | undefined;
  /** The span the instance's spans continue (the start's own). */
  traceContext?: TraceContext | undefined;
}

/** Builds the store request of a start, with a fresh execution id. */
export function startInstanceRequest(fields: StartFields, now: Date): StartInstanceRequest {
  const { name, instanceId, input, version, scheduledStartTime } = fields;
  checkStorableText(name, 'An orchestration name');
  const tags = checkTags(fields.tags);
  if (version !== undefined) checkStorableText(version, 'A version');
  const executionId = randomUUID().replace(/-/g, '');
  const optional = {
    ...(version !== undefined ? { version } : {}),
    ...(input !== undefined ? { input } : {}),
    ...(tags ? { tags } : {}),
  };
  const startEvent = makeEvent(
    {
      eventType: 'ExecutionStarted',
      name,
      instanceId,
      executionId,
      ...optional,
      ...(scheduledStartTime && scheduledStartTime.getTime() > now.getTime() ? { scheduledStartTime: scheduledStartTime.toISOString() } : {}),
      ...(fields.traceContext ? { parentTraceContext: fields.traceContext } : {}),
    },
    now,
  );
  return { instanceId, name, executionId, ...optional, startEvent };
}
