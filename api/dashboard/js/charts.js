// The job page's charts, on uPlot: every trial's learning curve, best so far against
// time and against epochs, and the Pareto scatter (val metric against parameters).

import uPlot from "../vendor/uPlot.esm.js";
import { STATUS_COLOURS } from "./format.js";

const NO_LEGEND = { show: false };
const EPOCH_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

function widthOf(container) {
  return Math.max(280, Math.floor(container.getBoundingClientRect().width || 600));
}

export class LearningCurves {
  // One series per trial (in the order trials arrived), all on epochs 1..maxEpochs.
  // Pruned trials end where they were stopped; their predicted final value, when the
  // policy forecast one, is a dashed line to the last epoch. The best trial is drawn bold.
  constructor(container, maxEpochs) {
    this.container = container;
    this.maxEpochs = maxEpochs;
    this.xs = Array.from({ length: maxEpochs }, (_, i) => i + 1);
    this.trials = []; // trial rows, series i + 1
    this.ys = []; // val_metric per epoch, null where none
    this.bestId = null;
    this.draws = 0;
    this.plot = null;
  }

  seriesFor(index) {
    const trials = this.trials;
    return {
      label: `#${trials[index].number}`,
      stroke: (u, si) => STATUS_COLOURS[trials[si - 1].status] || "grey",
      width: 1,
      points: { show: false },
      spanGaps: false,
    };
  }

  addTrial(trial) {
    this.trials.push(trial);
    this.ys.push(new Array(this.maxEpochs).fill(null));
    this.plot?.addSeries(this.seriesFor(this.trials.length - 1));
    return this.trials.length - 1;
  }

  setCurve(index, epochs, values, replace) {
    const ys = this.ys[index];
    if (replace) ys.fill(null);
    for (let k = 0; k < epochs.length; k++) {
      if (epochs[k] <= this.maxEpochs) ys[epochs[k] - 1] = values[k];
    }
  }

  render() {
    const data = [this.xs, ...this.ys];
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    const options = {
      width: widthOf(this.container),
      height: 380,
      legend: NO_LEGEND,
      cursor: { points: { show: false } },
      scales: { x: { time: false } },
      axes: [{ label: "epoch", incrs: EPOCH_STEPS }, { label: "validation metric" }],
      series: [{ label: "epoch" }, ...this.trials.map((_, i) => this.seriesFor(i))],
      hooks: { draw: [(u) => this.overlay(u)] },
    };
    this.plot = new uPlot(options, data, this.container);
  }

  lastPoint(index) {
    const ys = this.ys[index];
    for (let e = ys.length - 1; e >= 0; e--) if (ys[e] !== null) return [e + 1, ys[e]];
    return null;
  }

  overlay(u) {
    // drawn on top of the series: predicted finals (dashed), stop marks, the best trial
    this.draws += 1;
    const ctx = u.ctx;
    const x = (v) => u.valToPos(v, "x", true);
    const y = (v) => u.valToPos(v, "y", true);
    ctx.save();
    ctx.lineWidth = 1.2 * uPlot.pxRatio;
    ctx.setLineDash([5 * uPlot.pxRatio, 4 * uPlot.pxRatio]);
    ctx.strokeStyle = "rgba(230, 120, 20, 0.8)";
    ctx.beginPath();
    this.forecasts = 0;
    this.trials.forEach((t, i) => {
      if (t.predicted_final === null || t.predicted_final === undefined) return;
      const last = this.lastPoint(i);
      if (!last || last[0] >= this.maxEpochs) return;
      ctx.moveTo(x(last[0]), y(last[1]));
      ctx.lineTo(x(this.maxEpochs), y(t.predicted_final));
      this.forecasts += 1;
    });
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "rgba(230, 120, 20, 0.9)";
    this.trials.forEach((t, i) => {
      if (t.status !== "pruned") return;
      const last = this.lastPoint(i);
      if (last) ctx.fillRect(x(last[0]) - 2 * uPlot.pxRatio, y(last[1]) - 2 * uPlot.pxRatio, 4 * uPlot.pxRatio, 4 * uPlot.pxRatio);
    });
    const best = this.trials.findIndex((t) => t.id === this.bestId);
    if (best >= 0) {
      ctx.strokeStyle = "rgba(90, 20, 140, 0.95)";
      ctx.lineWidth = 2.5 * uPlot.pxRatio;
      ctx.beginPath();
      let open = false;
      this.ys[best].forEach((v, e) => {
        if (v === null) return;
        if (open) ctx.lineTo(x(e + 1), y(v));
        else ctx.moveTo(x(e + 1), y(v));
        open = true;
      });
      ctx.stroke();
    }
    ctx.restore();
  }
}

function stepChart(container, label, xLabel, data, existing) {
  if (existing) {
    existing.setData(data);
    return existing;
  }
  return new uPlot({
    width: widthOf(container),
    height: 220,
    legend: NO_LEGEND,
    scales: { x: { time: false } },
    axes: [{ label: xLabel }, { label }],
    series: [{}, { stroke: "rgb(90, 20, 140)", width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: true, size: 5 } }],
  }, data, container);
}

export function bestSoFar(trials, jobStarted) {
  // trials ended, in the order they ended: best finished val_metric against seconds since
  // the job started, and against epochs trained in all (pruned trials' epochs count too)
  const ended = trials.filter((t) => t.finished).sort((a, b) => (a.finished < b.finished ? -1 : 1));
  const start = jobStarted ? Date.parse(jobStarted) : ended.length ? Date.parse(ended[0].started) : 0;
  const time = [[], []];
  const epochs = [[], []];
  let best = null;
  let spent = 0;
  for (const t of ended) {
    spent += t.epochs_run;
    if (t.status === "finished" && t.val_metric !== null && (best === null || t.val_metric > best)) best = t.val_metric;
    if (best === null) continue;
    time[0].push(Math.max(0, (Date.parse(t.finished) - start) / 1000));
    time[1].push(best);
    epochs[0].push(spent);
    epochs[1].push(best);
  }
  return { time, epochs };
}

export class BestSoFar {
  constructor(timeBox, epochsBox) {
    this.boxes = [timeBox, epochsBox];
    this.plots = [null, null];
  }

  render(trials, jobStarted) {
    const { time, epochs } = bestSoFar(trials, jobStarted);
    if (!time[0].length) return;
    this.plots[0] = stepChart(this.boxes[0], "best val metric", "seconds since start", time, this.plots[0]);
    this.plots[1] = stepChart(this.boxes[1], "best val metric", "epochs trained (all trials)", epochs, this.plots[1]);
  }
}

export class Pareto {
  // every finished trial as a point (parameters on a log scale), the front as a step line
  constructor(container) {
    this.container = container;
    this.plot = null;
  }

  render(trials, front) {
    const done = trials.filter((t) => t.status === "finished" && t.val_metric !== null && t.n_params)
      .sort((a, b) => a.n_params - b.n_params || b.val_metric - a.val_metric);
    if (!done.length) return;
    const onFront = new Set(front.map((t) => t.id));
    const data = [done.map((t) => t.n_params), done.map((t) => t.val_metric), done.map((t) => (onFront.has(t.id) ? t.val_metric : null))];
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    this.plot = new uPlot({
      width: widthOf(this.container),
      height: 260,
      legend: NO_LEGEND,
      scales: { x: { time: false, distr: 3 } },
      axes: [{ label: "parameters" }, { label: "val metric" }],
      series: [
        {},
        { stroke: "rgba(31, 119, 180, 0.8)", paths: () => null, points: { show: true, size: 6, fill: "rgba(31, 119, 180, 0.5)" } },
        { stroke: "rgb(200, 40, 40)", width: 2, spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }), points: { show: true, size: 8, fill: "rgb(200, 40, 40)" } },
      ],
    }, data, this.container);
  }
}
