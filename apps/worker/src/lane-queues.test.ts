import { ConfigError, loadConfig } from '@switchyard/config';
import { describe, expect, it } from 'vitest';
import { laneSlots, servedQueues, shardConcurrency } from './lane-queues.ts';

describe('the queues a worker serves', () => {
  it('a batch lane of 3 shards is 3 queues with their own hash tags, its slots split between them', () => {
    const config = loadConfig({
      env: {},
      defaults: { worker: { concurrency: { interactive: 4, batch: 16 } }, lanes: { batch: { shards: 3 } } },
    });
    expect(servedQueues(config).map(({ name, concurrency }) => [name, concurrency])).toEqual([
      ['{interactive}', 4],
      ['{batch}', 6],
      ['{batch-1}', 5],
      ['{batch-2-163}', 5],
    ]);
    expect(laneSlots(config)).toEqual({ interactive: 4, batch: 16 });
  });

  it('unsharded (the default), the batch lane is its one queue with every slot', () => {
    const config = loadConfig({ env: {}, defaults: { worker: { lanes: ['batch'] } } });
    expect(servedQueues(config)).toEqual([{ lane: 'batch', shard: 0, name: '{batch}', concurrency: 16 }]);
  });

  it('every shard gets a slot even when there are fewer slots than shards', () => {
    expect(shardConcurrency(2, 3)).toEqual([1, 1, 1]);
    expect(shardConcurrency(7, 2)).toEqual([4, 3]);
  });

  it('a shard count outside 1 to 12 (the shards with a hash tag) is refused, naming the key', () => {
    for (const shards of [0, 13, 1.5])
      expect(() => loadConfig({ env: {}, defaults: { lanes: { batch: { shards } } } })).toThrow(
        expect.objectContaining({
          message: expect.stringContaining('lanes.batch.shards') as unknown,
        }) as Error,
      );
    expect(() => loadConfig({ env: {}, defaults: { lanes: { batch: { shards: 13 } } } })).toThrow(
      ConfigError,
    );
  });
});
