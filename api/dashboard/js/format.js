// Numbers and networks in the words people use: "64-128-64 relu, dropout 0.2, wd 1e-4".

export function sig(x, digits = 4) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const text = Number(x).toPrecision(digits); // 0.7000 -> 0.7, 1.500e+5 -> 1.5e+5, 1000 stays
  return text.includes(".") ? text.replace(/0+(e|$)/, "$1").replace(/\.(e|$)/, "$1") : text;
}

export function count(n) {
  if (n === null || n === undefined) return "–";
  if (n >= 1e6) return `${sig(n / 1e6, 3)}M`;
  if (n >= 1e4) return `${sig(n / 1e3, 3)}k`;
  return String(n);
}

export function short(x) {
  // 0.0001 -> 1e-4, 0.03 -> 0.03
  if (!x) return "0";
  return x < 0.01 ? x.toExponential(0) : sig(x, 2);
}

export function architecture(p) {
  if (!p || !p.widths) return "";
  const parts = [`${p.widths.join("-")} ${p.activation || ""}`.trim()];
  if (p.dropout) parts.push(`dropout ${sig(p.dropout, 2)}`);
  if (p.weight_decay) parts.push(`wd ${short(p.weight_decay)}`);
  if (p.batch_norm) parts.push("batch norm");
  if (p.optimizer && p.optimizer !== "adam") parts.push(p.optimizer);
  if (p.learning_rate) parts.push(`lr ${short(p.learning_rate)}`);
  return parts.join(", ");
}

export function seconds(s) {
  if (s === null || s === undefined) return "–";
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const STATUS_COLOURS = {
  finished: "rgba(31, 119, 180, 0.55)",
  pruned: "rgba(230, 120, 20, 0.55)",
  running: "rgba(20, 160, 60, 0.95)",
  failed: "rgba(200, 30, 30, 0.8)",
  diverged: "rgba(200, 30, 30, 0.8)",
};

export function statusBadge(status) {
  return el("span", { class: `badge ${status}` }, status);
}
