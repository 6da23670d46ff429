import type { WebhookSecretCreated } from '@switchyard/contracts';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Api } from './api.ts';
import type { TestStack } from './stack.ts';

export interface WebhookEvent<T = Record<string, unknown>> {
  id: string;
  type: 'job.finished' | 'batch.completed';
  created_at: string;
  data: T;
}

/** A fresh tenant with a webhook secret; the secret is also pushed to `issued` (for log checks). */
export async function webhookTenant(
  t: Pick<TestStack, 'tenant' | 'admin'>,
  issued: string[],
): Promise<{ tenantId: string; api: Api; secret: string }> {
  const { tenantId, api } = await t.tenant();
  const res = await t.admin.post<WebhookSecretCreated>(`/v1/admin/tenants/${tenantId}/webhook-secret`, {});
  if (res.status !== 201) throw new Error(`webhook-secret answered ${res.status}`);
  issued.push(res.body.secret);
  return { tenantId, api, secret: res.body.secret };
}

export const header = (r: ReceivedWebhook, name: string) => String(r.headers[name] ?? '');
export const eventOf = <T>(r: ReceivedWebhook) => JSON.parse(r.body) as WebhookEvent<T>;
/** Long enough for a duplicate delivery to have shown up, if there were one. */
export const settle = () => new Promise((r) => setTimeout(r, 600));

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body exactly as received (what the signature covers). */
  body: string;
  status: number;
  /** When the request arrived and when it was answered (epoch ms). */
  at: number;
  answeredAt: number;
}

/** How the receiver answers the n-th request (0-based) to a path. */
export type Answer = (n: number) => { status: number; delayMs?: number };

const OK: Answer = () => ({ status: 200 });

/** A real HTTP webhook receiver on 127.0.0.1 that records every request. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly answers = new Map<string, Answer>();
  private readonly arrivals = new Map<string, number>();
  private readonly server: Server;
  url = '';

  private constructor() {
    this.server = createServer((req, res) => {
      const at = Date.now();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const n = this.arrived(path);
        this.arrivals.set(path, n + 1);
        const { status, delayMs = 0 } = (this.answers.get(path) ?? OK)(n);
        const entry = {
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          status,
          at,
        };
        const answer = () => {
          this.received.push({ ...entry, answeredAt: Date.now() });
          res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now');
        };
        if (delayMs) setTimeout(answer, delayMs);
        else answer();
      });
    });
  }

  static async start(): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
    return r;
  }

  /** Sets how `path` answers; unset paths answer 200 at once. */
  on(path: string, answer: Answer): string {
    this.answers.set(path, answer);
    return `${this.url}${path}`;
  }

  /** Requests to `path` that arrived, answered or not. */
  arrived(path: string): number {
    return this.arrivals.get(path) ?? 0;
  }

  /** Answered requests to `path`, in order. */
  at(path: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
