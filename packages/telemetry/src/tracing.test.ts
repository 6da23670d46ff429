import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * Runs `code` in a fresh Node process that has imported this package, and returns what it prints:
 * which modules a process loads can only be seen from a process of its own.
 */
function inFreshProcess(code: string): string {
  const tracing = new URL('./tracing.ts', import.meta.url).href;
  const script = `
    import { registerHooks } from 'node:module';
    const resolved = [];
    registerHooks({ resolve: (spec, ctx, next) => { const r = next(spec, ctx); resolved.push(r.url); return r; } });
    const { startTracing } = await import(${JSON.stringify(tracing)});
    const sdkLoaded = () => resolved.some((url) => url.includes('@opentelemetry/sdk-node'));
    ${code}`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
}

describe('startTracing', () => {
  it('with nothing configured starts nothing and never loads the OpenTelemetry SDK (its memory is not paid)', () => {
    const out = inFreshProcess(`
      const tracing = await startTracing('t', { env: {} });
      console.log(JSON.stringify({ started: tracing !== undefined, sdkLoaded: sdkLoaded() }));`);
    expect(JSON.parse(out)).toEqual({ started: false, sdkLoaded: false });
  });

  it('with an OTLP endpoint configured loads the SDK and starts it', () => {
    const out = inFreshProcess(`
      const tracing = await startTracing('t', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' } });
      console.log(JSON.stringify({ started: tracing !== undefined, sdkLoaded: sdkLoaded() }));
      await tracing?.shutdown();`);
    expect(JSON.parse(out)).toEqual({ started: true, sdkLoaded: true });
  });
});
