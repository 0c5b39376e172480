// The job page: live learning curves of every trial, best so far, leaderboard, Pareto
// scatter, parameter importance, compute saved, and a picture of the best network.
// It loads all curves in one bulk call, then polls only what changed (a cursor).

import { ApiError, api, every, get } from "./api.js";
import { BestSoFar, LearningCurves, Pareto } from "./charts.js";
import { count, el, seconds, sig, statusBadge } from "./format.js";
import { Leaderboard } from "./leaderboard.js";
import { drawNetwork } from "./network.js";

const FINAL = ["finished", "failed", "cancelled"];
const POLL_MS = 1000;

function card(title, ...body) {
  return el("section", { class: "card" }, el("h2", {}, title), ...body);
}

function wideCard(title, ...body) {
  const node = card(title, ...body);
  node.classList.add("wide");
  return node;
}

function importanceBars(importance) {
  const entries = Object.entries(importance).sort((a, b) => b[1] - a[1]);
  if (!entries.length || entries.every(([, v]) => v === 0)) return el("p", { class: "muted" }, "Needs two finished trials with different results.");
  return el("div", { class: "bars" }, entries.map(([name, share]) => el("div", { class: "bar-row" },
    el("span", { class: "bar-label" }, name),
    el("span", { class: "bar-track" }, el("span", { class: "bar-fill", style: `width: ${(100 * share).toFixed(1)}%` })),
    el("span", { class: "num" }, `${(100 * share).toFixed(0)}%`))));
}

function computeSaved(job) {
  const spent = job.epochs_spent;
  const saved = job.epochs_saved;
  const whole = spent + saved;
  const share = whole ? saved / whole : 0;
  return el("div", {},
    el("p", {}, `${count(spent)} epochs trained; stopping saved ${count(saved)} `,
      el("strong", {}, `(${(100 * share).toFixed(0)}% of training every trial to the end)`)),
    el("div", { class: "progress saved", title: `${(100 * share).toFixed(0)}% saved` },
      el("div", { class: "bar", style: `width: ${(100 * (1 - share)).toFixed(1)}%` })));
}

function header(job, onCancel) {
  const p = job.progress;
  const byStatus = Object.entries(p.trials_by_status).filter(([, n]) => n).map(([s, n]) => `${n} ${s}`).join(", ");
  return el("div", { class: "job-head" },
    el("h1", {}, `#${job.id} ${job.name} `, statusBadge(job.status)),
    el("div", { class: "progress", title: `${Math.round(100 * (p.fraction ?? 0))}%` },
      el("div", { class: "bar", style: `width: ${(100 * (p.fraction ?? 0)).toFixed(1)}%` })),
    el("p", {},
      `${p.trials_done}${p.trials_budget ? `/${p.trials_budget}` : ""} trials done${byStatus ? ` (${byStatus})` : ""}. `,
      "Best val ", el("strong", { class: "best" }, sig(job.best_val_metric)),
      job.best_trial_id ? [" (", el("a", { href: `#/trials/${job.best_trial_id}` }, "trial"), ")"] : "",
      `. Elapsed ${seconds(job.elapsed_seconds)}`, job.eta_seconds ? `, about ${seconds(job.eta_seconds)} left` : "", ". ",
      ["queued", "running"].includes(job.status) ? el("button", { type: "button", onclick: onCancel }, "Cancel") : "",
      job.error ? el("span", { class: "error" }, ` ${job.error}`) : ""));
}

export function jobPage(jobId) {
  const head = el("div", {}, el("p", { class: "muted" }, "Loading…"));
  const curvesBox = el("div", { class: "chart", id: "curves" });
  const timeBox = el("div", { class: "chart" });
  const epochsBox = el("div", { class: "chart" });
  const paretoBox = el("div", { class: "chart", id: "pareto" });
  const importanceBox = el("div", {});
  const savedBox = el("div", {});
  const networkBox = el("div", { class: "network-box", id: "network" }, el("p", { class: "muted" }, "No finished trial yet."));
  const leaderboard = new Leaderboard();
  const node = el("div", { class: "job" }, head,
    el("div", { class: "grid" },
      card("Learning curves", el("p", { class: "legend" },
        el("span", { class: "key finished" }, "finished"), el("span", { class: "key pruned" }, "pruned (▪ where stopped, dashed: forecast final)"),
        el("span", { class: "key running" }, "running"), el("span", { class: "key failed" }, "failed"), el("span", { class: "key best" }, "best")), curvesBox),
      card("Best so far", timeBox, epochsBox),
      card("Pareto front: val metric against parameters", paretoBox),
      card("Parameter importance", importanceBox),
      card("Compute saved by stopping", savedBox),
      wideCard("Best network", networkBox),
      card("Leaderboard", leaderboard.node)));

  const state = { job: null, cursor: "", trials: new Map(), index: new Map(), curves: null, finishedCount: -1, bestId: null, fetches: [] };
  const best = new BestSoFar(timeBox, epochsBox);
  const pareto = new Pareto(paretoBox);
  window.nas = { jobId, state, best, pareto, leaderboard };

  const cancel = async () => {
    await api(`/jobs/${jobId}/cancel`, { method: "POST" });
  };

  async function pullCurves() {
    let more = true;
    let changed = false;
    while (more) {
      const path = `/jobs/${jobId}/curves?cursor=${encodeURIComponent(state.cursor)}`;
      const { data, bytes } = await api(path);
      const points = data.curves.reduce((n, c) => n + c.epochs.length, 0);
      state.fetches.push({ bytes, trials: data.trials.length, points });
      for (const t of data.trials) {
        state.trials.set(t.id, t);
        if (state.curves && !state.index.has(t.id)) state.index.set(t.id, state.curves.addTrial(t));
        else if (state.curves) state.curves.trials[state.index.get(t.id)] = t;
      }
      state.pending = (state.pending || []).concat(data.curves);
      if (state.curves) {
        for (const c of state.pending) state.curves.setCurve(state.index.get(c.trial_id), c.epochs, c.val_metric, c.after_epoch === 0);
        state.pending = [];
      }
      changed = changed || data.trials.length > 0 || data.curves.length > 0;
      state.cursor = data.cursor;
      more = data.more;
    }
    return changed;
  }

  function ensureCurves(job) {
    if (state.curves) return;
    const trials = [...state.trials.values()].sort((a, b) => a.number - b.number);
    const maxEpochs = Math.max(job.spec?.space?.max_epochs ?? 0, ...trials.map((t) => t.epochs_run), 1);
    state.curves = new LearningCurves(curvesBox, maxEpochs);
    for (const t of trials) state.index.set(t.id, state.curves.addTrial(t));
    for (const c of state.pending) state.curves.setCurve(state.index.get(c.trial_id), c.epochs, c.val_metric, c.after_epoch === 0);
    state.pending = [];
  }

  async function pullSlow(job, trials) {
    // results that change only when a trial finishes: fetched then, not every poll
    const finished = trials.filter((t) => t.status === "finished").length;
    const work = [];
    if (finished !== state.finishedCount) {
      state.finishedCount = finished;
      work.push(get(`/jobs/${jobId}/importance`).then((imp) => importanceBox.replaceChildren(importanceBars(imp))));
      work.push(get(`/jobs/${jobId}/pareto`).then((front) => pareto.render(trials, front)));
    }
    if (job.best_trial_id && job.best_trial_id !== state.bestId) {
      state.bestId = job.best_trial_id;
      work.push(get(`/jobs/${jobId}/model/weights`).then(
        (picture) => networkBox.replaceChildren(drawNetwork(picture)),
        (error) => {
          if (!(error instanceof ApiError) || error.status !== 404) throw error;
          // the model is saved a moment after its trial ends: ask again, a few times
          state.weightTries = (state.weightTries || 0) + 1;
          if (state.weightTries < 3) state.bestId = null;
        }));
    }
    await Promise.all(work);
  }

  async function refresh() {
    const job = await get(`/jobs/${jobId}`); // first: a final job's curves are then complete
    const changed = await pullCurves();
    state.job = job;
    head.replaceChildren(header(job, cancel));
    savedBox.replaceChildren(computeSaved(job));
    const trials = [...state.trials.values()];
    const first = !state.curves;
    ensureCurves(job);
    state.curves.bestId = job.best_trial_id;
    if (changed || first) {
      state.curves.render();
      best.render(trials, job.started);
      leaderboard.update(trials);
    }
    await pullSlow(job, trials);
    if (first) {
      await new Promise((done) => requestAnimationFrame(() => done()));
      performance.mark("nas:rendered");
      document.body.dataset.rendered = String(jobId);
    }
    return !FINAL.includes(job.status) || changed;
  }

  const loop = every(POLL_MS, refresh);
  return { node, ready: loop.first, stop: loop.stop };
}
