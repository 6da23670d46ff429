/** Redis key names of the ops page. */
export interface OpsPageKeys {
  /** List: one lanes sample (LaneSample JSON) a minute, newest first, the last hour's kept. */
  readonly laneHistory: string;
  /** String, set NX by the API replica that samples that epoch minute; expires after two. */
  laneSampleClaim(minute: number): string;
}

export function opsPageKeys(prefix: string): OpsPageKeys {
  if (!/^[^\s{}]+$/.test(prefix)) throw new RangeError('prefix must be non-empty, without spaces or braces');
  return {
    laneHistory: `${prefix}:ops:lane-history`,
    laneSampleClaim: (minute) => `${prefix}:ops:lane-sample:${minute}`,
  };
}
