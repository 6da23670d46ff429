import type { OpsOverview } from '@switchyard/contracts';
import { html, nothing, render, type TemplateResult } from 'lit-html';
import { LaneCharts } from './chart.ts';
import { clock } from './format.ts';
import { batchesView, failuresView, lanesView, poolView, tenantsView, workersView } from './views.ts';

/** How often the page asks for fresh figures. */
const POLL_MS = 2_000;
const OVERVIEW_URL = '/admin/api/overview';

type Status = { ok: true; at: string } | { ok: false; text: string };

function section(id: string, title: string, body: TemplateResult | typeof nothing): TemplateResult {
  return html`<section id=${`${id}-section`}>
    <h2>${title}</h2>
    ${body}
  </section>`;
}

function page(o: OpsOverview | undefined, status: Status): TemplateResult {
  const statusText = status.ok ? `Updated ${clock(status.at)}` : status.text;
  const show = (view: (o: OpsOverview) => TemplateResult) => (o ? view(o) : nothing);
  return html`<p id="status" class=${status.ok ? 'ok' : 'error'} role="status">${statusText}</p>
    <section id="lanes-section">
      <h2>Lanes</h2>
      ${show(lanesView)}
      <div class="charts">
        <figure>
          <figcaption>Jobs ready, active and delayed (a sample a minute)</figcaption>
          <div id="queue-chart"></div>
        </figure>
        <figure>
          <figcaption>Jobs finished per minute</figcaption>
          <div id="throughput-chart"></div>
        </figure>
      </div>
    </section>
    ${section('workers', 'Workers', show(workersView))}
    <section id="pool-section"><details id="pool">${show(poolView)}</details></section>
    ${section('tenants', 'Tenants today', show(tenantsView))}
    ${section('failures', 'Recent failures', show(failuresView))}
    ${section('batches', 'Batches', show(batchesView))}`;
}

class OpsPage {
  #overview: OpsOverview | undefined;
  #status: Status = { ok: false, text: 'Loading…' };
  readonly #root: HTMLElement;
  #charts: LaneCharts | undefined;

  constructor(root: HTMLElement) {
    this.#root = root;
  }

  async refresh(): Promise<void> {
    try {
      const res = await fetch(OVERVIEW_URL, { headers: { accept: 'application/json' }, cache: 'no-store' });
      // The session expired or was cleared: back to the login form.
      if (res.status === 401) return location.assign('/admin');
      if (!res.ok) throw new Error(`the API answered ${res.status}`);
      this.#overview = (await res.json()) as OpsOverview;
      this.#status = { ok: true, at: this.#overview.at };
    } catch (err) {
      this.#status = { ok: false, text: `Not updating (${(err as Error).message}); retrying…` };
    }
    this.draw();
  }

  draw(): void {
    render(page(this.#overview, this.#status), this.#root);
    if (!this.#overview) return;
    const queue = this.#root.querySelector<HTMLElement>('#queue-chart');
    const throughput = this.#root.querySelector<HTMLElement>('#throughput-chart');
    if (queue && throughput) (this.#charts ??= new LaneCharts(queue, throughput)).update(this.#overview);
  }

  resize(): void {
    this.#charts?.resize();
  }
}

const root = document.getElementById('app');
if (root) {
  const ops = new OpsPage(root);
  const tick = async () => {
    await ops.refresh();
    setTimeout(() => void tick(), POLL_MS);
  };
  void tick();
  window.addEventListener('resize', () => ops.resize());
}
