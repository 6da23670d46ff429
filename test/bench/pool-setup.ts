import type { Redis } from 'ioredis';
import { ProxyPool, type ProxyPoolOptions } from '@switchyard/proxy-pool';

/**
 * The pool the pool benchmarks lease from: `size` proxies tagged `dc`, each with room for four
 * times its share of `concurrency` (at least 4), so no lease is refused for capacity.
 */
export async function setupBenchPool(
  redis: Redis,
  size: number,
  concurrency: number,
  options: Partial<ProxyPoolOptions> = {},
): Promise<ProxyPool> {
  const pool = new ProxyPool({ redis, prefix: `bench${size}`, ...options });
  const maxConcurrency = Math.max(4, Math.ceil((4 * concurrency) / size));
  for (let i = 0; i < size; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, size - i) }, (_, j) =>
        pool.upsert({
          id: `p${i + j}`,
          url: `http://user:pass@10.${(i + j) >> 16}.${((i + j) >> 8) & 255}.${(i + j) & 255}:3128`,
          tags: ['dc'],
          maxConcurrency,
          pricePerGbUsd: 1,
        }),
      ),
    );
  }
  return pool;
}
