// The submit form: data set (built-in, stored, or a CSV upload), space, searcher, stopping
// policy and budget. The server validates; its 422 messages appear next to their fields.

import { ApiError, api, choices as loadChoices, get } from "./api.js";
import { el } from "./format.js";

function field(name, label, input, hint) {
  // a labelled input whose errors (for `name`, a dotted API field path) show beneath it
  return el("div", { class: "field", dataset: { field: name } },
    el("label", {}, label, " ", input),
    hint ? el("small", { class: "muted" }, hint) : null,
    el("div", { class: "field-error", role: "alert" }));
}

const text = (name, value, attrs = {}) => el("input", { name, value: value ?? "", ...attrs });

function range(name, [low, high]) {
  return el("span", { class: "range" }, text(`${name}.low`, low, { size: 6 }), " – ", text(`${name}.high`, high, { size: 6 }));
}

function select(name, options, chosen) {
  return el("select", { name }, options.map((o) => el("option", { value: o, selected: o === chosen }, o)));
}

function checkboxes(name, options, chosen) {
  return el("span", { class: "checks" }, options.map((o) =>
    el("label", {}, el("input", { type: "checkbox", name, value: o, checked: chosen.includes(o) }), ` ${o} `)));
}

function number(raw) {
  // "" means "use the default"; a number is sent as one; anything else is sent as typed,
  // so the server names the field and says why
  const value = raw.trim();
  if (value === "") return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : value;
}

function pair(form, name) {
  const low = number(form.elements[`${name}.low`].value);
  const high = number(form.elements[`${name}.high`].value);
  return low === undefined && high === undefined ? undefined : [low ?? null, high ?? null];
}

function prune(object) {
  for (const key of Object.keys(object)) if (object[key] === undefined) delete object[key];
  return object;
}

function specFrom(form, dataset) {
  const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((c) => c.value);
  const batch = form.elements["space.batch_size"].value.split(",").map((s) => s.trim()).filter(Boolean).map(number);
  return prune({
    name: form.elements.name.value.trim() || undefined,
    dataset,
    searcher: form.elements.searcher.value,
    stopping: { policy: form.elements["stopping.policy"].value },
    budget: prune({ trials: number(form.elements["budget.trials"].value), seconds: number(form.elements["budget.seconds"].value) }),
    seed: number(form.elements.seed.value),
    parallelism: number(form.elements.parallelism.value),
    space: prune({
      max_epochs: number(form.elements["space.max_epochs"].value),
      n_layers: pair(form, "space.n_layers"),
      width: pair(form, "space.width"),
      dropout: pair(form, "space.dropout"),
      weight_decay: pair(form, "space.weight_decay"),
      learning_rate: pair(form, "space.learning_rate"),
      activation: checked("space.activation"),
      optimizer: checked("space.optimizer"),
      scaling: checked("space.scaling"),
      target_scaling: checked("space.target_scaling"),
      lr_schedule: checked("space.lr_schedule"),
      batch_norm: checked("space.batch_norm").map((v) => v === "on"),
      batch_size: batch.length ? batch : undefined,
    }),
  });
}

export function showErrors(form, error) {
  // each error goes to the field whose path is the longest prefix of the error's field
  // (space.width.0 -> space.width), else to the first field under it, else the form's box
  const boxes = [...form.querySelectorAll("[data-field]")];
  for (const box of boxes) box.classList.remove("invalid");
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
  const general = form.querySelector(".form-error");
  general.textContent = "";
  const items = error.errors?.length ? error.errors : [{ field: null, message: error.message }];
  for (const item of items) {
    const path = item.field || "";
    const within = (f) => path === f || path.startsWith(`${f}.`);
    const owner = boxes.filter((b) => within(b.dataset.field)).sort((a, b) => b.dataset.field.length - a.dataset.field.length)[0]
      || (path && boxes.find((b) => b.dataset.field.startsWith(`${path}.`)));
    const slot = owner ? owner.querySelector(".field-error") : general;
    owner?.classList.add("invalid");
    slot.textContent += (slot.textContent ? "; " : "") + (owner ? item.message : `${path ? `${path}: ` : ""}${item.message}`);
  }
}

async function upload(form) {
  const data = new FormData();
  const file = form.elements.file.files[0];
  if (file) data.append("file", file);
  data.append("target", form.elements.target.value);
  data.append("categorical", form.elements.categorical.value);
  data.append("missing", form.elements.missing.value);
  const { data: stored } = await api("/datasets", { method: "POST", form: data });
  return { id: stored.id };
}

export function submitPage() {
  const node = el("section", { class: "panel" }, el("h1", {}, "New search"), el("p", { class: "muted" }, "Loading choices…"));
  const ready = (async () => {
    const [choices, stored] = await Promise.all([loadChoices(), get("/datasets?limit=500")]);
    const s = choices.space;
    const source = (value, label, checked) => el("label", {}, el("input", { type: "radio", name: "source", value, checked }), ` ${label} `);
    const form = el("form", { class: "submit", novalidate: true },
      field("name", "Name", text("name", "search")),
      el("fieldset", {}, el("legend", {}, "Data set"),
        el("div", {}, source("builtin", "built-in", true), source("stored", "stored", false), source("upload", "upload a CSV", false)),
        field("dataset", "Built-in", select("builtin", choices.datasets.map((d) => d.name), "iris")),
        field("dataset.id", "Stored", el("select", { name: "stored" },
          stored.items.map((d) => el("option", { value: d.id }, `#${d.id} ${d.name} (${d.n_rows}×${d.n_features}, ${d.task})`)))),
        field("file", "CSV file", el("input", { type: "file", name: "file", accept: ".csv,text/csv" })),
        field("target", "Target column", text("target", "")),
        el("div", { class: "row" },
          field("categorical", "Text columns", select("categorical", ["auto", "refuse"], "auto")),
          field("missing", "Missing cells", select("missing", ["auto", "refuse"], "auto")))),
      el("fieldset", {}, el("legend", {}, "Search"),
        field("searcher", "Searcher", select("searcher", choices.searchers, "tpe")),
        field("stopping", "Stopping policy", select("stopping.policy", choices.stopping_policies, "lce")),
        field("budget.trials", "Trials", text("budget.trials", 20, { size: 6 }), `at most ${choices.limits["budget.trials"]}`),
        field("budget.seconds", "Seconds (optional)", text("budget.seconds", "", { size: 6 })),
        field("parallelism", "Parallel trials", text("parallelism", 1, { size: 4 })),
        field("seed", "Seed", text("seed", 0, { size: 8 }))),
      el("fieldset", {}, el("legend", {}, "Space"),
        field("space.max_epochs", "Epochs per trial", text("space.max_epochs", s.max_epochs, { size: 6 }), `at most ${choices.limits["space.max_epochs"]}`),
        field("space.n_layers", "Hidden layers", range("space.n_layers", s.n_layers)),
        field("space.width", "Units per layer", range("space.width", s.width)),
        field("space.activation", "Activations", checkboxes("space.activation", choices.space_options.activation, s.activation)),
        field("space.optimizer", "Optimizers", checkboxes("space.optimizer", choices.space_options.optimizer, s.optimizer)),
        field("space.scaling", "Input scaling", checkboxes("space.scaling", choices.space_options.scaling, s.scaling)),
        field("space.target_scaling", "Target scaling (regression)", checkboxes("space.target_scaling", choices.space_options.target_scaling, s.target_scaling)),
        field("space.dropout", "Dropout", range("space.dropout", s.dropout)),
        field("space.weight_decay", "Weight decay", range("space.weight_decay", s.weight_decay)),
        field("space.learning_rate", "Learning rate", range("space.learning_rate", s.learning_rate)),
        field("space.lr_schedule", "Learning-rate schedule", checkboxes("space.lr_schedule", choices.space_options.lr_schedule, s.lr_schedule)),
        field("space.batch_norm", "Batch norm", checkboxes("space.batch_norm", ["on", "off"], s.batch_norm.map((b) => (b ? "on" : "off")))),
        field("space.batch_size", "Batch sizes", text("space.batch_size", s.batch_size.join(", ")))),
      el("div", { class: "form-error", role: "alert" }),
      el("button", { type: "submit" }, "Start search"));
    const showSource = () => {
      const chosen = form.elements.source.value;
      const show = { dataset: "builtin", "dataset.id": "stored", file: "upload", target: "upload", categorical: "upload", missing: "upload" };
      for (const [name, when] of Object.entries(show)) form.querySelector(`[data-field="${name}"]`).hidden = chosen !== when;
    };
    form.addEventListener("change", showSource);
    showSource();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const chosen = form.elements.source.value;
        let dataset = { name: form.elements.builtin.value };
        if (chosen === "stored") dataset = { id: number(form.elements.stored.value) };
        if (chosen === "upload") dataset = await upload(form);
        const { data: job } = await api("/jobs", { method: "POST", json: specFrom(form, dataset) });
        window.location.hash = `#/jobs/${job.id}`;
      } catch (error) {
        if (!(error instanceof ApiError) || error.status === 401) throw error;
        showErrors(form, error);
      } finally {
        button.disabled = false;
      }
    });
    node.replaceChildren(el("h1", {}, "New search"), form);
  })();
  return { node, ready };
}
