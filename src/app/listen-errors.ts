/**
 * Errors of `duraflow start` that the operator fixes with an option: a port in use (`--port`, `--grpc`), a port
 * that needs privileges, an address that is not this machine's (`--hostname`). The system's error says
 * `listen EADDRINUSE: address already in use 127.0.0.1:7071`; these say what to do about it.
 */
import { ValidationError } from '../sdk/errors.js';

/** Where `duraflow start` tried to listen. */
export interface ListenTarget {
  hostname: string;
  port: number;
  grpcPort?: number;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `error` with a hint when it is a listen error; otherwise `error` itself. */
export function explainListenError(error: unknown, target: ListenTarget): unknown {
  if (!(error instanceof Error)) return error;
  const code = codeOf(error);
  // The HTTP server's errors carry code and port; the gRPC server's only name the code in the message.
  const http = (error as { syscall?: unknown }).syscall === 'listen';
  const grpc = !http && target.grpcPort !== undefined && /EADDRINUSE|EACCES|EADDRNOTAVAIL|No address added/.test(error.message);
  if (!http && !grpc) return error;
  const port = http ? Number((error as { port?: unknown }).port ?? target.port) : target.grpcPort!;
  const option = http ? '--port' : '--grpc';
  const what = http ? 'HTTP' : 'gRPC';
  const text = `${code ?? ''} ${error.message}`;
  if (/EADDRINUSE/.test(text)) {
    return new ValidationError(
      `the ${what} port ${port} on ${target.hostname} is already in use (another duraflow host?): stop that process, or choose another port with ${option} <port> (${option} 0 picks a free one).`,
    );
  }
  if (/EACCES/.test(text)) return new ValidationError(`not allowed to listen on ${what} port ${port}: ports below 1024 need privileges; choose another with ${option} <port>.`);
  if (/EADDRNOTAVAIL/.test(text)) return new ValidationError(`cannot listen on ${target.hostname}: it is not an address of this machine; check --hostname.`);
  return error;
}
