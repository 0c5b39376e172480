// The job page's predict form: drop a CSV of raw rows (the columns the data set had; the
// target may stay in), get the best model's predictions as a table and as a CSV download.
// Refusals (text in a numeric column) show the API's message, which names column and row.

import { ApiError, api } from "./api.js";
import { el, sig } from "./format.js";

const SHOWN = 20; // rows drawn in the table; the download has them all

function toCsv(out) {
  const header = ["prediction", ...(out.probabilities ? out.classes.map((c) => `P(${c})`) : [])];
  const quote = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  const lines = out.predictions.map((p, i) => [p, ...(out.probabilities ? out.probabilities[i] : [])].map(quote).join(","));
  return [header.map(quote).join(","), ...lines].join("\n") + "\n";
}

function table(out) {
  const classes = out.probabilities ? out.classes : [];
  const head = el("tr", {}, el("th", {}, "row"), el("th", {}, "prediction"), classes.map((c) => el("th", {}, `P(${c})`)));
  const rows = out.predictions.slice(0, SHOWN).map((p, i) => el("tr", {},
    el("td", { class: "num" }, String(i + 2)),
    el("td", {}, typeof p === "number" ? sig(p) : String(p)),
    classes.map((_, j) => el("td", { class: "num" }, sig(out.probabilities[i][j], 3)))));
  const more = out.predictions.length > SHOWN ? el("p", { class: "muted" }, `first ${SHOWN} of ${out.predictions.length} rows (row 1 is the header)`) : "";
  return [el("table", { class: "predictions" }, el("thead", {}, head), el("tbody", {}, rows)), more];
}

export function predictForm(jobId) {
  const result = el("div", { class: "predict-result", role: "status" });
  const form = el("form", { class: "predict" },
    el("label", {}, "CSV of raw rows ", el("input", { type: "file", name: "file", accept: ".csv,text/csv", required: true })),
    el("label", {}, el("input", { type: "checkbox", name: "probabilities" }), " class probabilities"),
    el("button", { type: "submit" }, "Predict"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) return;
    const data = new FormData();
    data.append("file", file);
    data.append("probabilities", form.elements.probabilities.checked ? "true" : "false");
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const { data: out } = await api(`/jobs/${jobId}/predict`, { method: "POST", form: data });
      const href = URL.createObjectURL(new Blob([toCsv(out)], { type: "text/csv" }));
      const name = `job-${jobId}-${file.name.replace(/\.csv$/i, "")}-predictions.csv`;
      result.replaceChildren(el("p", {}, `${out.predictions.length} predictions by trial ${out.trial_id}. `,
        el("a", { href, download: name }, "Download CSV")), ...table(out));
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 401) throw error;
      result.replaceChildren(el("p", { class: "error" }, error.message));
    } finally {
      button.disabled = false;
    }
  });
  return el("div", {}, form, result);
}
