// One trial: its settings, status and learning curve (losses and the validation metric).

import { every, get } from "./api.js";
import uPlot from "../vendor/uPlot.esm.js";
import { architecture, count, el, seconds, sig, statusBadge } from "./format.js";

function curveChart(container, points) {
  const data = [
    points.map((p) => p.epoch),
    points.map((p) => p.train_loss),
    points.map((p) => p.val_loss),
    points.map((p) => p.val_metric),
  ];
  return new uPlot({
    width: Math.max(320, Math.floor(container.getBoundingClientRect().width || 700)),
    height: 320,
    scales: { x: { time: false } },
    axes: [{ label: "epoch" }, { label: "loss", scale: "loss" }, { label: "val metric", scale: "metric", side: 1, grid: { show: false } }],
    series: [
      { label: "epoch" },
      { label: "train loss", scale: "loss", stroke: "rgb(120, 120, 120)", width: 1.5 },
      { label: "val loss", scale: "loss", stroke: "rgb(230, 120, 20)", width: 1.5 },
      { label: "val metric", scale: "metric", stroke: "rgb(31, 119, 180)", width: 2 },
    ],
  }, data, container);
}

function facts(trial) {
  const rows = [
    ["status", statusBadge(trial.status)],
    ["architecture", architecture(trial.params)],
    ["val metric", sig(trial.val_metric)],
    ["test metric", sig(trial.test_metric)],
    ["forecast final (stopping)", sig(trial.predicted_final)],
    ["parameters", count(trial.n_params)],
    ["epochs", trial.epochs_run],
    ["attempt", trial.attempt],
    ["worker", trial.worker ?? "–"],
    ["trained", trial.finished ? seconds((Date.parse(trial.finished) - Date.parse(trial.started)) / 1000) : "still running"],
    ["error or reason", trial.error ?? "–"],
  ];
  const params = Object.entries(trial.params).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]);
  const table = (items) => el("table", { class: "facts" }, items.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
  return el("div", { class: "row" }, table(rows), table(params));
}

export function trialPage(trialId) {
  const head = el("div", {}, el("p", { class: "muted" }, "Loading…"));
  const chartBox = el("div", { class: "chart", id: "trial-curve" });
  const node = el("section", { class: "panel" }, head, chartBox);
  let chart = null;
  const loop = every(1000, async () => {
    const trial = await get(`/trials/${trialId}`);
    const curve = await get(`/trials/${trialId}/curve?limit=10000`);
    head.replaceChildren(
      el("p", {}, el("a", { href: `#/jobs/${trial.job_id}` }, `← job #${trial.job_id}`)),
      el("h1", {}, `Trial #${trial.number} `, statusBadge(trial.status)),
      facts(trial));
    chart?.destroy();
    chart = curveChart(chartBox, curve.points);
    window.nas = { trial, chart };
    return trial.status === "running";
  });
  return { node, ready: loop.first, stop: () => { loop.stop(); chart?.destroy(); } };
}
