/**
 * An in-memory OpenTelemetry setup for trace tests, registered the way an app registers its own: a global
 * tracer provider (SDK 2.x, SimpleSpanProcessor into an InMemorySpanExporter) and an AsyncLocalStorage
 * context manager. duraflow itself only ever sees `@opentelemetry/api`.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

let exporter: InMemorySpanExporter | undefined;

/** Registers the provider once per process; returns its exporter (call `reset()` between tests). */
export function installTracing(): InMemorySpanExporter {
  if (exporter) return exporter;
  exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a global tracer provider was already registered');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return exporter;
}

/** The finished spans, by name. */
export function spansNamed(spans: readonly ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}

/** The one finished span named `name` (fails when there are none or several). */
export function oneSpan(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spansNamed(spans, name);
  if (found.length !== 1) throw new Error(`expected one span '${name}', found ${found.length} (spans: ${spans.map((s) => s.name).join(', ')})`);
  return found[0]!;
}

/** The parent span id of `span` (SDK 2.x: `parentSpanContext`). */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** `span`'s own id. */
export function idOf(span: ReadableSpan): string {
  return span.spanContext().spanId;
}

/** Waits until `check` holds for the finished spans (spans end right after commits, so a test may get there first). */
export async function spansWhere(exporter: InMemorySpanExporter, check: (spans: ReadableSpan[]) => boolean, timeoutMs = 5000): Promise<ReadableSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = exporter.getFinishedSpans();
    if (check(spans)) return spans;
    if (Date.now() > deadline) throw new Error(`spans never matched; have: ${spans.map((s) => s.name).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
