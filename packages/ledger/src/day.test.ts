import { LedgerError } from './errors.ts';
import { describe, expect, it } from 'vitest';
import { dayRange, utcDay } from './day.ts';

describe('UTC days', () => {
  it('an instant belongs to its UTC calendar day, whatever the local time zone', () => {
    expect(utcDay(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toBe('2024-02-29');
    expect(utcDay(Date.UTC(2024, 2, 1))).toBe('2024-03-01');
    expect(utcDay(0)).toBe('1970-01-01');
    expect(() => utcDay(Number.NaN)).toThrow(LedgerError);
  });

  it('a range lists every day once, across month, year and leap-day boundaries', () => {
    expect(dayRange('2023-12-30', '2024-01-02')).toEqual([
      '2023-12-30',
      '2023-12-31',
      '2024-01-01',
      '2024-01-02',
    ]);
    expect(dayRange('2024-02-28', '2024-03-01')).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
    expect(dayRange('2024-03-10', '2024-03-10')).toEqual(['2024-03-10']);
    expect(dayRange('2024-01-01', '2024-12-31')).toHaveLength(366);
    expect(() => dayRange('2023-02-29', '2023-03-01')).toThrow(LedgerError);
  });
});
