import { z } from 'zod';

/** Interactive traffic never waits behind batch traffic: each lane is its own queue and worker. */
export const LANES = ['interactive', 'batch'] as const;
export const LaneSchema = z.enum(LANES);
export type Lane = z.infer<typeof LaneSchema>;
