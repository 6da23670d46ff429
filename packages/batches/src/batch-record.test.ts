import { describe, expect, it } from 'vitest';
import { parseBatchFileId, toBatchRecord } from './batch-record.ts';

const ID = 'bt_0000000000001234567890abcdef';
const NOW = 1_800_000_000_000;
const base = { fp: 'f', created_at: String(NOW - 60_000), total: '10', accepted: '8', rejected: '2' };
const file = { oa_file: 'file-0123456789abcdef01234567', oa_window: '24h', oa_created: String(NOW - 61_000) };
const inWindow = String(NOW / 1000 + 3600);
const past = String(NOW / 1000 - 10);

describe('toBatchRecord: OpenAI status and fields from the batch hash', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['a file batch whose lines are still being read', { ...file, oa_expires: inWindow }, 'validating'],
    ['jobs left to run', { ...base, succeeded: '3' }, 'in_progress'],
    ['every accepted job finished', { ...base, succeeded: '7', failed: '1', done_at: '1' }, 'completed'],
    [
      'a Switchyard batch whose lines were all rejected',
      { ...base, accepted: '0', done_at: '1' },
      'completed',
    ],
    [
      'a file batch whose lines were all rejected',
      { ...base, ...file, accepted: '0', done_at: '1' },
      'failed',
    ],
    ['cancel asked, jobs still stopping', { ...base, succeeded: '3', cancel_at: '5' }, 'cancelling'],
    [
      'cancel asked, every job stopped',
      { ...base, succeeded: '3', canceled: '5', cancel_at: '5', done_at: '6' },
      'cancelled',
    ],
    ['past the completion window with jobs left', { ...base, ...file, oa_expires: past }, 'expired'],
    [
      'finished after the completion window',
      { ...base, ...file, oa_expires: past, succeeded: '8', done_at: String(NOW / 1000) },
      'expired',
    ],
    [
      'finished within the completion window',
      { ...base, ...file, oa_expires: inWindow, succeeded: '8', done_at: String(NOW / 1000) },
      'completed',
    ],
  ];
  it.each(cases)('%s', (_name, hash, status) => {
    expect(toBatchRecord(ID, hash, NOW)?.status).toBe(status);
  });

  it('no hash: no batch', () => {
    expect(toBatchRecord(ID, {}, NOW)).toBeUndefined();
  });

  it('names output and error files only once the batch has finished', () => {
    const running = toBatchRecord(ID, { ...base, succeeded: '3', failed: '1' }, NOW);
    expect([running?.output_file_id, running?.error_file_id]).toEqual([null, null]);
    const clean = toBatchRecord(
      ID,
      { ...base, rejected: '0', total: '8', succeeded: '8', done_at: '9' },
      NOW,
    );
    expect([clean?.output_file_id, clean?.error_file_id]).toEqual([`file-${ID}-output`, null]);
    const mixed = toBatchRecord(ID, { ...base, succeeded: '7', failed: '1', done_at: '9' }, NOW);
    expect(mixed).toMatchObject({
      output_file_id: `file-${ID}-output`,
      error_file_id: `file-${ID}-errors`,
      request_counts: { total: 10, completed: 7, failed: 3 },
      completed_at: 9,
    });
    expect(parseBatchFileId(mixed?.error_file_id ?? '')).toEqual({ batchId: ID, kind: 'errors' });
    expect(parseBatchFileId('file-0123456789abcdef01234567')).toBeUndefined();
  });

  it('a file batch carries its OpenAI fields; created_at is when it was asked for', () => {
    const meta = JSON.stringify({ project: 'x' });
    const b = toBatchRecord(ID, { ...base, ...file, oa_expires: inWindow, oa_meta: meta }, NOW);
    expect(b).toMatchObject({
      input_file_id: file.oa_file,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { project: 'x' },
      expires_at: Number(inWindow),
      in_progress_at: (NOW - 60_000) / 1000,
      created_at: new Date(NOW - 61_000).toISOString(),
    });
    const sy = toBatchRecord(ID, base, NOW);
    expect(sy).toMatchObject({
      input_file_id: null,
      endpoint: null,
      completion_window: null,
      metadata: null,
    });
  });
});
