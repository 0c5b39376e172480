// The job page: live learning curves of every trial, best so far, leaderboard, Pareto
// scatter, parameter importance, compute saved, a picture of the best network, and a form
// that predicts a dropped CSV with the best model.
// It loads all curves in one bulk call, then polls only what changed (a cursor).

import { ApiError, api, choices, every, get } from "./api.js";
import { BestSoFar, LearningCurves, Pareto } from "./charts.js";
import { count, el, seconds, sig, statusBadge } from "./format.js";
import { Leaderboard } from "./leaderboard.js";
import { drawNetwork, ensembleLine } from "./network.js";
import { predictForm } from "./predict.js";

let FINAL = []; // the job statuses that end a job, from GET /choices
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
      !FINAL.includes(job.status) ? el("button", { type: "button", onclick: onCancel }, "Cancel") : "",
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
      wideCard("Predict", el("p", { class: "muted" }, "The best model's predictions for a CSV with the data set's columns."), predictForm(jobId)),
      card("Leaderboard", leaderboard.node)));

  const state = { job: null, cursor: "", trials: new Map(), index: new Map(), curves: null, finishedCount: -1, bestId: null, triedFor: null, weightTries: 0, fetches: [] };
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

  function weights() {
    // null when the job has no saved model yet (it is saved a moment after its trial ends)
    return get(`/jobs/${jobId}/model/weights`).catch((error) => {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    });
  }

  async function pullSlow(job, trials) {
    // results that change only when a trial finishes: fetched then, not every poll
    const finished = trials.filter((t) => t.status === "finished").length;
    let [importance, front, picture] = state.early || [];
    const early = Boolean(state.early);
    state.early = null;
    if (!early && finished !== state.finishedCount) {
      [importance, front] = await Promise.all([get(`/jobs/${jobId}/importance`), get(`/jobs/${jobId}/pareto`)]);
    }
    if (early || finished !== state.finishedCount) {
      state.finishedCount = finished;
      importanceBox.replaceChildren(importanceBars(importance));
      pareto.render(trials, front);
    }
    // the ensemble (spec.ensemble) is stored as the best trial's model when the job ends
    const ended = job.status === "finished" && !state.endPicture;
    if (!early && job.best_trial_id && (job.best_trial_id !== state.bestId || ended)) {
      if (ended) state.endPicture = true;
      if (state.triedFor !== job.best_trial_id) {
        state.triedFor = job.best_trial_id;
        state.weightTries = 0;
      }
      if (state.weightTries < 3) {
        // a model is saved a moment after its trial ends: ask at the next polls, a few times
        picture = await weights();
        if (!picture) state.weightTries += 1;
      }
    }
    if (picture) {
      state.bestId = picture.trial_id;
      networkBox.replaceChildren(...ensembleLine(picture), drawNetwork(picture));
    }
  }

  async function refresh() {
    const first = !state.curves;
    if (first) FINAL = (await choices()).final_job_statuses;
    let job;
    let changed;
    if (first) {
      // the first load asks everything at once: one round trip, not four in a row
      const detail = get(`/jobs/${jobId}`);
      const slow = [get(`/jobs/${jobId}/importance`), get(`/jobs/${jobId}/pareto`)];
      slow.push(detail.then((j) => (j.best_trial_id ? weights() : null))); // no 404 to log
      [job, changed, ...state.early] = await Promise.all([detail, pullCurves(), ...slow]);
      performance.mark("nas:data");
    } else {
      job = await get(`/jobs/${jobId}`); // first: a final job's curves are then complete
      changed = await pullCurves();
    }
    state.job = job;
    head.replaceChildren(header(job, cancel));
    savedBox.replaceChildren(computeSaved(job));
    const trials = [...state.trials.values()];
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
  const stop = () => {
    loop.stop();
    for (const plot of [state.curves?.plot, ...best.plots, pareto.plot]) plot?.destroy();
  };
  return { node, ready: loop.first, stop };
}
