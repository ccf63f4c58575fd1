/**
 * What the Python interop tests share: finding a Python with Debian's grpcio, grpc-tools and protobuf, and
 * generating stubs from our own `.proto` with grpc_tools.protoc.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { SIDECAR_PROTO_PATH } from '../../../src/grpc/service-definition.js';

const run = promisify(execFile);

/** A Python with grpcio, grpc-tools and protobuf (Debian's packages live in /usr/bin/python3). */
export function findPython(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(python, ['-c', 'import grpc, grpc_tools.protoc, google.protobuf'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

/**
 * The Python to run, or undefined after skipping `t` with the reason. In CI (`CI` set) a missing Python is a
 * failure instead: `.ci/run` installs the packages.
 */
export function pythonOrSkip(t: TestContext): string | undefined {
  const python = findPython();
  if (python) return python;
  const reason = 'python3 with grpcio, grpc-tools and protobuf not found (apt-get install python3-grpcio python3-grpc-tools python3-protobuf)';
  if (process.env['CI']) assert.fail(`${reason}; .ci/run installs them`);
  t.skip(reason);
  return undefined;
}

/** Generates the Python stubs of the sidecar's `.proto` into a new temporary directory; returns it. */
export async function generateStubs(python: string): Promise<string> {
  const stubs = mkdtempSync(join(tmpdir(), 'duraflow-py-stubs-'));
  await run(python, ['-m', 'grpc_tools.protoc', `-I${dirname(SIDECAR_PROTO_PATH)}`, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, SIDECAR_PROTO_PATH]);
  return stubs;
}
