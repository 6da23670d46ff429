import type { JobSpec, Lane, Outcome } from '@switchyard/contracts';
import type { Dispatcher } from 'undici';

/** The way out for one attempt: a dispatcher, and what to report when the attempt ends. */
export interface EgressGrant {
  dispatcher: Dispatcher;
  /** Connection failures belong to the proxy, not the target. */
  viaProxy: boolean;
  proxyId: string | undefined;
  /** Price of the bytes through this egress, in nano-USD per byte (0 for direct). */
  nanosPerByte: number;
  release(report: { outcome: Outcome; bytes: number; retryAfterMs?: number }): Promise<void>;
  /** Set when the attempt holds a host slot: called right before its request leaves. */
  beforeSend?: () => void;
}

export interface EgressExhausted {
  exhausted: true;
  retryAfterMs: number;
  reason: string;
}

export interface EgressRequest {
  spec: JobSpec;
  lane: Lane;
  /** The model this attempt asks (completions), or null. */
  model: string | null;
  /** Host of the upstream the attempt will call. */
  host: string;
}

/** Chooses and acquires the egress of an attempt: direct, or a leased pool proxy. */
export interface Egress {
  acquire(req: EgressRequest): Promise<EgressGrant | EgressExhausted>;
  close(): Promise<void>;
}

/** Straight out through one shared keep-alive agent (undici retries nothing). */
export class DirectEgress implements Egress {
  private readonly dispatcher: Dispatcher;

  constructor(dispatcher: Dispatcher) {
    this.dispatcher = dispatcher;
  }

  async acquire(): Promise<EgressGrant> {
    return {
      dispatcher: this.dispatcher,
      viaProxy: false,
      proxyId: undefined,
      nanosPerByte: 0,
      release: async () => undefined,
    };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
