import { describe, expect, it } from 'vitest';
import { FaultInjector, UnknownFaultError, type FaultConfig } from './faults.ts';

const kinds = (injector: FaultInjector, n: number) =>
  Array.from({ length: n }, () => injector.next()?.kind ?? 'ok');

describe('fault injector', () => {
  const config: FaultConfig = {
    error5xx: 0.2,
    rateLimit: 0.2,
    timeout: 0.1,
    streamCut: 0.1,
    errorIn200: 0.1,
    seed: 42,
  };

  it('seeded faults are reproducible', () => {
    const a = kinds(new FaultInjector(config), 200);
    expect(kinds(new FaultInjector(config), 200)).toEqual(a);
    expect(kinds(new FaultInjector({ ...config, seed: 43 }), 200)).not.toEqual(a);
    const again = new FaultInjector(config);
    kinds(again, 50);
    again.set(config);
    expect(kinds(again, 200)).toEqual(a);
  });

  it('fault rates are honoured over many calls', () => {
    const counts = new Map<string, number>();
    for (const k of kinds(new FaultInjector(config), 10_000)) counts.set(k, (counts.get(k) ?? 0) + 1);
    expect(counts.get('5xx')).toBeGreaterThan(1800);
    expect(counts.get('5xx')).toBeLessThan(2200);
    expect(counts.get('ok')).toBeGreaterThan(2800);
    expect(counts.get('ok')).toBeLessThan(3200);
  });

  it('a forced fault does not shift the seeded sequence', () => {
    const plain = kinds(new FaultInjector(config), 20);
    const forced = new FaultInjector(config);
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      expect(forced.next('timeout')?.kind).toBe('timeout');
      seen.push(forced.next()?.kind ?? 'ok');
    }
    expect(seen).toEqual(plain);
  });

  it.each([
    ['503', { kind: '5xx', status: 503 }],
    ['5xx', { kind: '5xx', status: 500 }],
    ['429', { kind: '429', retryAfterSeconds: 1 }],
    ['cut', { kind: 'cut' }],
    ['error200', { kind: 'error200' }],
    ['none', undefined],
  ])('the x-mock-fault header %s forces that outcome', (header, expected) => {
    expect(new FaultInjector({ error5xx: 1 }).next(header)).toEqual(expected);
  });

  it('no faults are injected without rates', () => {
    expect(kinds(new FaultInjector(), 100).every((k) => k === 'ok')).toBe(true);
  });

  it('bad configurations and header values are refused', () => {
    expect(() => new FaultInjector({ error5xx: 0.6, timeout: 0.6 })).toThrow(RangeError);
    expect(() => new FaultInjector({ rateLimit: -0.1 })).toThrow(RangeError);
    expect(() => new FaultInjector({ status5xx: 404 })).toThrow(RangeError);
    expect(() => new FaultInjector().next('teapot')).toThrow(UnknownFaultError);
  });
});
