import type { LaneSample, OpsOverview } from '@switchyard/contracts';
import uPlot from 'uplot';

const MINUTE_MS = 60_000;
const HEIGHT = 200;
const COLORS = { interactive: '#2563eb', batch: '#9333ea' } as const;
const DASH = { ready: [], active: [8, 4], delayed: [2, 4] } as const;

interface Series {
  label: string;
  color: string;
  dash: readonly number[];
}

/** The queue chart: ready, active and delayed jobs of each lane, from the minute samples. */
const QUEUE_SERIES = (['interactive', 'batch'] as const).flatMap((lane) =>
  (['ready', 'active', 'delayed'] as const).map((field) => ({ lane, field })),
);

/** The last hour's samples plus the live figures, as uPlot's columns (x in epoch seconds). */
export function queueData(overview: OpsOverview): uPlot.AlignedData {
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
  const columns = QUEUE_SERIES.map(({ lane, field }) =>
    samples.map((s) => s.lanes.find((l) => l.lane === lane)?.[field] ?? null),
  );
  return [samples.map((s) => s.t / 1000), ...columns];
}

/** Jobs finished in each of the last 60 full minutes, per lane, oldest first. */
export function throughputData(overview: OpsOverview): uPlot.AlignedData {
  const lastFull = Math.floor(Date.parse(overview.at) / MINUTE_MS) - 1;
  const lanes = (['interactive', 'batch'] as const).map(
    (lane) => overview.lanes.lanes.find((l) => l.lane === lane)?.finished_per_minute ?? [],
  );
  const minutes = Math.max(0, ...lanes.map((l) => l.length));
  const x = Array.from({ length: minutes }, (_, i) => ((lastFull - (minutes - 1 - i)) * MINUTE_MS) / 1000);
  return [x, ...lanes.map((l) => x.map((_, i) => l[minutes - 1 - i] ?? 0))];
}

/** A time-series chart that keeps its canvas across refreshes. */
class TimeChart {
  #plot: uPlot | undefined;

  readonly #el: HTMLElement;
  readonly #series: Series[];
  readonly #yLabel: string;

  constructor(el: HTMLElement, series: Series[], yLabel: string) {
    this.#el = el;
    this.#series = series;
    this.#yLabel = yLabel;
  }

  update(data: uPlot.AlignedData): void {
    if (this.#plot) return this.#plot.setData(data);
    const opts: uPlot.Options = {
      width: this.#width(),
      height: HEIGHT,
      scales: { x: { time: true } },
      // Labels only: the tables have the live figures.
      legend: { live: false },
      axes: [{}, { label: this.#yLabel }],
      series: [
        {},
        ...this.#series.map((s) => ({ label: s.label, stroke: s.color, dash: [...s.dash], width: 2 })),
      ],
    };
    this.#plot = new uPlot(opts, data, this.#el);
  }

  resize(): void {
    this.#plot?.setSize({ width: this.#width(), height: HEIGHT });
  }

  #width(): number {
    return Math.max(320, this.#el.clientWidth || 720);
  }
}

/** The lanes' two charts over the last hour: queued jobs by state, and jobs finished per minute. */
export class LaneCharts {
  readonly #queue: TimeChart;
  readonly #throughput: TimeChart;

  constructor(queueEl: HTMLElement, throughputEl: HTMLElement) {
    this.#queue = new TimeChart(
      queueEl,
      QUEUE_SERIES.map(({ lane, field }) => ({
        label: `${lane} ${field}`,
        color: COLORS[lane],
        dash: DASH[field],
      })),
      'jobs',
    );
    this.#throughput = new TimeChart(
      throughputEl,
      (['interactive', 'batch'] as const).map((lane) => ({
        label: `${lane} finished`,
        color: COLORS[lane],
        dash: [],
      })),
      'jobs / min',
    );
  }

  update(overview: OpsOverview): void {
    this.#queue.update(queueData(overview));
    this.#throughput.update(throughputData(overview));
  }

  resize(): void {
    this.#queue.resize();
    this.#throughput.resize();
  }
}
