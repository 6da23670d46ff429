import { describe, expect, it } from 'vitest';
import { AdmissionKeys } from './keys.ts';

describe('AdmissionKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    const keys = new AdmissionKeys('sy');
    expect(keys.fair).toEqual({
      ring: 'sy:fair:{batch}:ring',
      members: 'sy:fair:{batch}:members',
      inflight: 'sy:fair:{batch}:inflight',
      backlogPrefix: 'sy:fair:{batch}:t:',
    });
    expect(keys.tenantLoad('t1')).toEqual({ open: 'sy:load:{t1}:open', started: 'sy:load:{t1}:started' });
  });
});
