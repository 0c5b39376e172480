// A sortable table of a job's trials: click a heading to sort by it, again to reverse.

import { architecture, count, el, sig, statusBadge } from "./format.js";

const COLUMNS = [
  ["number", "#", (t) => t.number],
  ["status", "status", (t) => t.status],
  ["val_metric", "val", (t) => t.val_metric],
  ["test_metric", "test", (t) => t.test_metric],
  ["n_params", "parameters", (t) => t.n_params],
  ["epochs_run", "epochs", (t) => t.epochs_run],
  ["architecture", "architecture", (t) => architecture(t.params)],
];
const SHOWN = 50;

export class Leaderboard {
  constructor() {
    this.key = "val_metric";
    this.descending = true;
    this.all = false;
    this.trials = [];
    this.body = el("tbody");
    this.head = el("tr");
    this.more = el("button", { type: "button", class: "link", onclick: () => { this.all = !this.all; this.render(); } });
    this.node = el("div", {}, el("table", { class: "leaderboard" }, el("thead", {}, this.head), this.body), this.more);
  }

  sortBy(key) {
    this.descending = key === this.key ? !this.descending : key === "val_metric" || key === "test_metric";
    this.key = key;
    this.render();
  }

  update(trials) {
    this.trials = trials;
    this.render();
  }

  render() {
    const value = COLUMNS.find(([k]) => k === this.key)[2];
    const sign = this.descending ? -1 : 1;
    const sorted = [...this.trials].sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      if (va === vb) return a.number - b.number;
      if (va === null || va === undefined) return 1; // missing values last either way
      if (vb === null || vb === undefined) return -1;
      return (va < vb ? -1 : 1) * sign;
    });
    this.head.replaceChildren(...COLUMNS.map(([key, label]) => el("th", {
      class: key === this.key ? `sorted ${this.descending ? "desc" : "asc"}` : "sortable",
      dataset: { key },
      onclick: () => this.sortBy(key),
    }, label)));
    const rows = this.all ? sorted : sorted.slice(0, SHOWN);
    this.body.replaceChildren(...rows.map((t) => el("tr", { dataset: { trialId: t.id } },
      el("td", {}, el("a", { href: `#/trials/${t.id}` }, `#${t.number}`)),
      el("td", {}, statusBadge(t.status)),
      el("td", { class: "num" }, sig(t.val_metric)),
      el("td", { class: "num" }, sig(t.test_metric)),
      el("td", { class: "num" }, count(t.n_params)),
      el("td", { class: "num" }, t.epochs_run),
      el("td", {}, architecture(t.params)))));
    this.more.hidden = sorted.length <= SHOWN;
    this.more.textContent = this.all ? `Show the top ${SHOWN}` : `Show all ${sorted.length}`;
  }
}
