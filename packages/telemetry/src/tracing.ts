import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';

export { SpanKind, SpanStatusCode, type Span, type Context };

/** W3C trace context as carried in a job (`traceparent`, `tracestate`). */
export type TraceCarrier = Record<string, string>;

export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing (OTLP export, W3C propagation) when the environment asks for it
 * the standard way: `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_TRACES_EXPORTER` (other than `none`), and not `OTEL_SDK_DISABLED=true`. Otherwise nothing
 * starts and every span below is a no-op. Only traces: metrics are Prometheus, logs are pino.
 * `spanProcessors` replaces the exporter (tests collect spans in memory this way).
 *
 * The SDK is imported only when tracing starts: loading it (exporters, gRPC, protobuf) costs a
 * process megabytes of RSS, which a process with tracing off should not pay.
 */
export async function startTracing(
  serviceName: string,
  opts: { env?: NodeJS.ProcessEnv; spanProcessors?: NodeSDKConfiguration['spanProcessors'] } = {},
): Promise<Tracing | undefined> {
  const env = opts.env ?? process.env;
  const exporter = env.OTEL_TRACES_EXPORTER;
  const wanted =
    opts.spanProcessors !== undefined ||
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
    Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ||
    (exporter !== undefined && exporter !== '' && exporter !== 'none');
  if (!wanted || env.OTEL_SDK_DISABLED === 'true') return undefined;
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? serviceName,
    instrumentations: [],
    ...(opts.spanProcessors ? { spanProcessors: opts.spanProcessors } : {}),
  });
  sdk.start();
  return sdk;
}

const tracer = () => trace.getTracer('switchyard');

/** The trace context to carry from `ctx` (e.g. into a job), empty when tracing is off. */
export function traceCarrier(ctx: Context = context.active()): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a carrier (incoming headers, a job's `trace`) names; the root when it names none. */
export function contextFrom(carrier: Record<string, unknown> | undefined): Context {
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
}

/** Starts a span under `parent` (a context or a carrier). Attributes must never hold content. */
export function startSpan(
  name: string,
  opts: { kind?: SpanKind; attributes?: Attributes; parent?: Context | TraceCarrier },
): Span {
  const parent =
    opts.parent === undefined || isContext(opts.parent)
      ? (opts.parent ?? ROOT_CONTEXT)
      : contextFrom(opts.parent);
  return tracer().startSpan(
    name,
    { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes },
    parent,
  );
}

/** The context with `span` active in it: the parent for what the span's work starts. */
export function contextWith(span: Span, parent: Context = ROOT_CONTEXT): Context {
  return trace.setSpan(parent, span);
}

function isContext(x: Context | TraceCarrier): x is Context {
  return typeof (x as Context).getValue === 'function';
}
