import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from './webhook-signature.ts';

const SECRET = 'whsec_test_0123456789abcdef';
const BODY = '{"id":"evt_1","type":"job.finished","created_at":"2024-01-01T00:00:00.000Z","data":{}}';
const now = () => Math.floor(Date.now() / 1000);
/** Given a good header: the (secret, header, body) to verify. */
type Case = (header: string) => [string, string | undefined, string];

describe('webhook signatures', () => {
  it('a fresh signature of the exact body verifies, as a string or as bytes', () => {
    const header = signPayload(SECRET, BODY, now());
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, header, BODY)).toBe(true);
    expect(verifySignature(SECRET, header, Buffer.from(BODY))).toBe(true);
  });

  it.each([
    ['a tampered body', (h: string) => [SECRET, h, BODY.replace('job.finished', 'job.finishes')]],
    ['a body re-serialized with other whitespace', (h: string) => [SECRET, h, `${BODY}\n`]],
    ['another secret', (h: string) => [`${SECRET}x`, h, BODY]],
    [
      'a changed timestamp',
      (h: string) => [SECRET, h.replace(/t=(\d+)/, (_, t) => `t=${Number(t) + 1}`), BODY],
    ],
    ['a missing v1', (h: string) => [SECRET, h.split(',')[0], BODY]],
    ['no header', () => [SECRET, undefined, BODY]],
    ['garbage', () => [SECRET, 't=abc,v1=zz', BODY]],
    ['an empty secret', (h: string) => ['', h, BODY]],
  ] satisfies [string, Case][])('%s fails', (_name, args) => {
    const [secret, header, body] = args(signPayload(SECRET, BODY, now()));
    expect(verifySignature(secret, header, body)).toBe(false);
  });

  it('a signature older (or newer) than the tolerance fails: replays of old events are refused', () => {
    const old = signPayload(SECRET, BODY, now() - 301);
    expect(verifySignature(SECRET, old, BODY)).toBe(false);
    expect(verifySignature(SECRET, old, BODY, 600)).toBe(true);
    expect(verifySignature(SECRET, signPayload(SECRET, BODY, now() + 301), BODY)).toBe(false);
  });

  it('any one of several v1 signatures may match (a receiver-side rollover)', () => {
    const t = now();
    const good = signPayload(SECRET, BODY, t).split(',')[1] ?? '';
    const other = signPayload('whsec_other', BODY, t).split(',')[1] ?? '';
    expect(verifySignature(SECRET, `t=${t},${other},${good}`, BODY)).toBe(true);
  });
});
