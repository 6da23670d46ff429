import type {
  BatchProgress,
  FailureGroup,
  LaneSignals,
  OpsOverview,
  ProxyRow,
  TenantSpend,
  WorkerInfo,
} from '@switchyard/contracts';
import { html, nothing, type TemplateResult } from 'lit-html';
import { age, clock, percent, rate, until, usd } from './format.ts';

// Every figure a test or a person looks for carries data-field (and its row data-lane, data-proxy,
// data-tenant, data-code or data-batch): the page's stable, style-free hooks.

function laneRow(l: LaneSignals): TemplateResult {
  const d = l.delayed;
  const why = `retrying ${d.retrying}, fair share ${d.fair_share}, egress ${d.egress}, host ${d.host}`;
  return html`<tr data-lane=${l.lane}>
    <th scope="row">${l.lane}</th>
    <td data-field="ready">${l.ready}</td>
    <td data-field="active">${l.active}</td>
    <td data-field="delayed" title=${why}>${d.total}</td>
    <td data-field="oldest-ready">${age(l.oldest_ready_age_s)}</td>
    <td data-field="finished">
      ${rate(l.finished_per_second.last_1m)} / ${rate(l.finished_per_second.last_5m)}
    </td>
    <td data-field="workers">${l.workers} (${l.slots} slots)</td>
  </tr>`;
}

export function lanesView(o: OpsOverview): TemplateResult {
  return html`<table id="lanes">
    <thead>
      <tr>
        <th>Lane</th>
        <th>Ready</th>
        <th>Active</th>
        <th>Delayed</th>
        <th>Oldest ready</th>
        <th title="jobs finished per second, last 1 min / 5 min">Finished/s (1m / 5m)</th>
        <th>Workers</th>
      </tr>
    </thead>
    <tbody>
      ${o.lanes.lanes.map(laneRow)}
    </tbody>
  </table>`;
}

function workerRow(w: WorkerInfo): TemplateResult {
  const slots = Object.entries(w.concurrency)
    .map(([lane, n]) => `${lane} ${n}`)
    .join(', ');
  return html`<tr data-worker=${w.id}>
    <td>${w.host}:${w.pid}</td>
    <td>${slots}</td>
    <td data-field="in-flight">${w.in_flight}</td>
    <td>${clock(w.started_at)}</td>
    <td>${clock(w.last_heartbeat_at)}</td>
    <td>${w.metrics_url ?? '–'}</td>
  </tr>`;
}

export function workersView(o: OpsOverview): TemplateResult {
  const workers = o.lanes.workers;
  if (!workers.length) return html`<p class="empty">No live worker.</p>`;
  return html`<table id="workers">
    <thead>
      <tr>
        <th>Worker</th>
        <th>Slots</th>
        <th>In flight</th>
        <th>Started</th>
        <th>Heartbeat</th>
        <th>Metrics</th>
      </tr>
    </thead>
    <tbody>
      ${workers.map(workerRow)}
    </tbody>
  </table>`;
}

function hosts(list: { host: string; until: number }[], now: number): string {
  return list.map((h) => `${h.host} (${until(h.until, now)})`).join(', ') || '–';
}

function proxyRow(p: ProxyRow, now: number): TemplateResult {
  return html`<tr data-proxy=${p.id} class=${`state-${p.state}`}>
    <td>${p.id}</td>
    <td class="mono">${p.url}</td>
    <td data-field="state">${p.state}</td>
    <td data-field="in-flight">${p.in_flight} / ${p.max_concurrency}</td>
    <td>${p.consecutive_faults}</td>
    <td data-field="quarantine">${until(p.quarantined_until, now)}</td>
    <td data-field="cooling">${hosts(p.cooling, now)}</td>
    <td data-field="banned">${hosts(p.banned, now)}</td>
  </tr>`;
}

export function poolView(o: OpsOverview): TemplateResult {
  const now = Date.parse(o.at);
  const states = ['available', 'cooling', 'quarantined', 'draining'] as const;
  const counts = states.map((s) => `${o.proxies.filter((p) => p.state === s).length} ${s}`).join(', ');
  const n = o.proxies.length;
  return html`<summary>Proxy pool: ${n} ${n === 1 ? 'proxy' : 'proxies'} (${counts})</summary>
    ${
      n
        ? html`<table id="pool-table">
            <thead>
              <tr>
                <th>Proxy</th>
                <th>URL</th>
                <th>State</th>
                <th>In flight</th>
                <th>Faults in a row</th>
                <th>Quarantined for</th>
                <th>Cooling hosts</th>
                <th>Banned hosts</th>
              </tr>
            </thead>
            <tbody>
              ${o.proxies.map((p) => proxyRow(p, now))}
            </tbody>
          </table>`
        : html`<p class="empty">No proxy configured (scrapes go direct).</p>`
    }`;
}

function budgetCell(t: TenantSpend): TemplateResult {
  if (t.daily_budget_usd === null) return html`<td data-field="budget">none</td>`;
  return html`<td data-field="budget">
    <meter min="0" max=${t.daily_budget_usd} high=${t.daily_budget_usd * 0.8} value=${t.spend_usd}></meter>
    ${usd(t.daily_budget_usd)}
  </td>`;
}

function tenantRow(t: TenantSpend): TemplateResult {
  const models = t.models.map((m) => `${m.model}: ${usd(m.spend_usd)}, retries ${percent(m.retry_share)}`);
  return html`<tr data-tenant=${t.id}>
    <td>${t.name} <span class="mono dim">${t.id}</span></td>
    <td data-field="spend">${usd(t.spend_usd)}</td>
    ${budgetCell(t)}
    <td data-field="retry-share">${percent(t.retry_share)}</td>
    <td data-field="models">${models.length ? models.join('; ') : '–'}</td>
  </tr>`;
}

export function tenantsView(o: OpsOverview): TemplateResult {
  if (!o.tenants.length) return html`<p class="empty">No tenant yet.</p>`;
  return html`<table id="tenants">
    <thead>
      <tr>
        <th>Tenant</th>
        <th>Spent today (UTC)</th>
        <th>Daily budget</th>
        <th>Retry share</th>
        <th>By model</th>
      </tr>
    </thead>
    <tbody>
      ${o.tenants.map(tenantRow)}
    </tbody>
  </table>`;
}

function failureRow(g: FailureGroup): TemplateResult {
  return html`<tr data-code=${g.code}>
    <td class="mono">${g.code}</td>
    <td data-field="count">${g.count}</td>
    <td>${clock(g.last.at)}</td>
    <td class="mono">${g.last.job_id}</td>
    <td>${g.last.tenant_id} · ${g.last.lane}${g.last.model ? html` · ${g.last.model}` : nothing}</td>
    <td>${g.last.message}</td>
  </tr>`;
}

export function failuresView(o: OpsOverview): TemplateResult {
  const { groups, window } = o.failures;
  if (!groups.length) return html`<p class="empty">No job has failed lately.</p>`;
  return html`<p class="dim">The last ${window} jobs that failed for good, by error code.</p>
    <table id="failures">
      <thead>
        <tr>
          <th>Code</th>
          <th>Jobs</th>
          <th>Last at</th>
          <th>Last job</th>
          <th>Where</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        ${groups.map(failureRow)}
      </tbody>
    </table>`;
}

function batchRow(b: BatchProgress): TemplateResult {
  const done = b.succeeded + b.failed + b.canceled;
  return html`<tr data-batch=${b.id}>
    <td class="mono">${b.id}</td>
    <td class="mono">${b.tenant_id}</td>
    <td data-field="status">${b.status}</td>
    <td data-field="progress">
      <progress max=${Math.max(1, b.total)} value=${done}></progress> ${done} / ${b.total}
    </td>
    <td>${b.succeeded} ok · ${b.failed} failed · ${b.canceled} canceled</td>
    <td>${clock(b.created_at)}</td>
  </tr>`;
}

export function batchesView(o: OpsOverview): TemplateResult {
  if (!o.batches.length) return html`<p class="empty">No recent batch.</p>`;
  return html`<table id="batches">
    <thead>
      <tr>
        <th>Batch</th>
        <th>Tenant</th>
        <th>Status</th>
        <th>Progress</th>
        <th>Jobs</th>
        <th>Created</th>
      </tr>
    </thead>
    <tbody>
      ${o.batches.map(batchRow)}
    </tbody>
  </table>`;
}
