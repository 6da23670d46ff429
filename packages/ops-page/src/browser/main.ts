import type { OpsOverview } from '@switchyard/contracts';
import { html, nothing, render, type TemplateResult } from 'lit-html';
import { LaneChart } from './chart.ts';
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
      <div id="lanes-chart" aria-label="ready, active and delayed jobs over the last hour"></div>
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
  #chart: LaneChart | undefined;

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
    const el = this.#root.querySelector<HTMLElement>('#lanes-chart');
    if (el) (this.#chart ??= new LaneChart(el)).update(this.#overview);
  }

  resize(): void {
    this.#chart?.resize();
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
