// The job list: status and progress of each search, newest first, refreshed while open.

import { every, get } from "./api.js";
import { el, seconds, sig, statusBadge } from "./format.js";

function progressBar(fraction) {
  const share = Math.round(100 * (fraction ?? 0));
  return el("div", { class: "progress", title: `${share}%` },
    el("div", { class: "bar", style: `width: ${share}%` }));
}

function row(job) {
  const p = job.progress;
  const budget = p.trials_budget ? `/${p.trials_budget}` : "";
  return el("tr", { dataset: { jobId: job.id, status: job.status } },
    el("td", {}, el("a", { href: `#/jobs/${job.id}` }, `#${job.id}`)),
    el("td", {}, el("a", { href: `#/jobs/${job.id}` }, job.name)),
    el("td", {}, statusBadge(job.status)),
    el("td", {}, progressBar(p.fraction), ` ${p.trials_done}${budget} trials`,
      p.trials_running ? ` (${p.trials_running} running)` : ""),
    el("td", { class: "num" }, sig(job.best_val_metric)),
    el("td", { class: "num" }, seconds(job.elapsed_seconds)),
    el("td", {}, new Date(job.created).toLocaleString()));
}

export function jobsPage() {
  const body = el("tbody");
  const total = el("span", { class: "muted" });
  const node = el("section", { class: "panel" },
    el("h1", {}, "Searches ", total),
    el("p", {}, el("a", { href: "#/new", class: "button" }, "New search")),
    el("table", { class: "jobs" },
      el("thead", {}, el("tr", {}, ["id", "name", "status", "progress", "best val", "elapsed", "created"].map((h) => el("th", {}, h)))),
      body));
  const loop = every(2000, async () => {
    const page = await get("/jobs?limit=50");
    total.textContent = `(${page.total})`;
    body.replaceChildren(...page.items.map(row));
    if (!page.items.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No searches yet.")));
  });
  return { node, ready: loop.first, stop: loop.stop };
}
