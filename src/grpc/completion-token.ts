/**
 * Completion tokens: what a gRPC worker hands back with its result. A token names the work item's lease
 * (instance or activity id and epoch), so a completion for a lease that has since been lost or re-dispatched is
 * recognised and refused instead of being committed twice.
 */
import type { Lease } from '../store/store.js';

/** The kinds of work a worker receives. */
export type WorkKind = 'orchestration' | 'activity' | 'entity';

/** What a token carries. */
export interface TokenClaims {
  kind: WorkKind;
  hub: string;
  lease: Lease;
  /** Dispatch serial, unique in this process: the same lease is never confused with an earlier dispatch. */
  serial: number;
  /** Activities: where the result goes, so a late result can still be committed while its lease holds. */
  instanceId?: string;
  executionId?: string;
  taskId?: number;
}

const PREFIX = 'df1.';

/** Encodes claims as an opaque token. */
export function encodeToken(claims: TokenClaims): string {
  const compact = {
    k: claims.kind,
    h: claims.hub,
    i: claims.lease.id,
    e: claims.lease.epoch,
    s: claims.serial,
    ...(claims.instanceId !== undefined ? { o: claims.instanceId } : {}),
    ...(claims.executionId !== undefined ? { x: claims.executionId } : {}),
    ...(claims.taskId !== undefined ? { t: claims.taskId } : {}),
  };
  return PREFIX + Buffer.from(JSON.stringify(compact)).toString('base64url');
}

/** Decodes a token; undefined for anything that is not one of ours. */
export function decodeToken(token: string | undefined): TokenClaims | undefined {
  if (!token?.startsWith(PREFIX)) return undefined;
  try {
    const c = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8')) as Record<string, unknown>;
    const kind = c['k'];
    if (kind !== 'orchestration' && kind !== 'activity' && kind !== 'entity') return undefined;
    if (typeof c['h'] !== 'string' || typeof c['i'] !== 'string' || typeof c['e'] !== 'number' || typeof c['s'] !== 'number') return undefined;
    return {
      kind,
      hub: c['h'],
      lease: { id: c['i'], epoch: c['e'] },
      serial: c['s'],
      ...(typeof c['o'] === 'string' ? { instanceId: c['o'] } : {}),
      ...(typeof c['x'] === 'string' ? { executionId: c['x'] } : {}),
      ...(typeof c['t'] === 'number' ? { taskId: c['t'] } : {}),
    };
  } catch {
    return undefined;
  }
}
