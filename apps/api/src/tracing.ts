import {
  contextFrom,
  contextWith,
  SpanKind,
  SpanStatusCode,
  startSpan,
  traceCarrier,
  type Context,
  type Span,
  type TraceCarrier,
} from '@switchyard/telemetry';
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    span?: Span;
    traceContext?: Context;
  }
}

/**
 * One SERVER span per request (a no-op unless tracing was started: startTracing), continuing the
 * caller's `traceparent` when it sends one. Named by route pattern, never by URL: ids, query
 * strings and bodies stay out of traces.
 */
export function installTracing(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    const parent = contextFrom(req.headers);
    const route = req.routeOptions.url ?? 'unmatched';
    req.span = startSpan(`${req.method} ${route}`, {
      kind: SpanKind.SERVER,
      parent,
      attributes: { 'http.request.method': req.method, 'http.route': route },
    });
    req.traceContext = contextWith(req.span, parent);
  });
  app.addHook('onResponse', async (req, reply) => {
    const span = req.span;
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (req.principal?.kind === 'key') span.setAttribute('switchyard.tenant_id', req.principal.tenantId);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

/** The request's trace context, to carry into the job it submits. */
export function traceOf(req: FastifyRequest): TraceCarrier {
  return req.traceContext ? traceCarrier(req.traceContext) : {};
}
