import type { LaneSample, OpsOverview } from '@switchyard/contracts';
import uPlot from 'uplot';

const SERIES = [
  { lane: 'interactive', field: 'ready', color: '#2563eb', dash: [] },
  { lane: 'interactive', field: 'active', color: '#16a34a', dash: [] },
  { lane: 'interactive', field: 'delayed', color: '#d97706', dash: [] },
  { lane: 'batch', field: 'ready', color: '#2563eb', dash: [6, 4] },
  { lane: 'batch', field: 'active', color: '#16a34a', dash: [6, 4] },
  { lane: 'batch', field: 'delayed', color: '#d97706', dash: [6, 4] },
] as const;

/** The last hour's samples plus the live figures, as uPlot's columns (x in epoch seconds). */
export function chartData(overview: OpsOverview): uPlot.AlignedData {
  const live: LaneSample = {
    t: Date.parse(overview.at),
    lanes: overview.lanes.lanes.map((l) => ({
      lane: l.lane,
      ready: l.ready,
      active: l.active,
      delayed: l.delayed.total,
    })),
  };
  const samples = [...overview.history.filter((s) => s.t < live.t), live];
  const x = samples.map((s) => s.t / 1000);
  const columns = SERIES.map(({ lane, field }) =>
    samples.map((s) => s.lanes.find((l) => l.lane === lane)?.[field] ?? null),
  );
  return [x, ...columns];
}

/** The lanes chart: ready, active and delayed jobs of each lane over the last hour. */
export class LaneChart {
  #plot: uPlot | undefined;
  readonly #el: HTMLElement;

  constructor(el: HTMLElement) {
    this.#el = el;
  }

  update(overview: OpsOverview): void {
    const data = chartData(overview);
    if (this.#plot) {
      this.#plot.setData(data);
      return;
    }
    const opts: uPlot.Options = {
      width: Math.max(320, this.#el.clientWidth || 720),
      height: 220,
      scales: { x: { time: true } },
      // Labels only: the table above the chart has the live figures.
      legend: { live: false },
      axes: [{}, { label: 'jobs' }],
      series: [
        {},
        ...SERIES.map((s) => ({
          label: `${s.lane} ${s.field}`,
          stroke: s.color,
          dash: [...s.dash],
          width: 2,
        })),
      ],
    };
    this.#plot = new uPlot(opts, data, this.#el);
  }

  resize(): void {
    this.#plot?.setSize({ width: Math.max(320, this.#el.clientWidth), height: 220 });
  }
}
