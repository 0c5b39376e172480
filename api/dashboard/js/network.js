// The best network drawn as in the TensorFlow playground: a column of units per layer,
// an edge per weight, blue for positive and orange for negative, wider for larger.

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

// "ensemble of N trials: #3 0.45, #7 0.30, ..." above the drawing (spec.ensemble), or "average
// of N refits of trial #3" (spec.refit_seeds); nothing
// for a single network.
export function ensembleLine(picture) {
  if (!picture.ensemble) return [];
  const members = [...picture.ensemble].sort((a, b) => b.weight - a.weight);
  const parts = members.map((m) => `#${m.number} ${m.weight.toFixed(2)}`).join(", ");
  const line = document.createElement("p");
  line.className = "ensemble-line";
  const n = members.length;
  const numbers = new Set(members.map((m) => m.number));
  // one trial refit from several seeds (spec.refit_seeds): an average of n networks
  line.textContent = numbers.size === 1 && n > 1
    ? `average of ${n} refits of trial #${members[0].number} from different seeds; drawn: one of them`
    : `ensemble of ${n} trial${n === 1 ? "" : "s"} (weights): ${parts}; drawn: trial #${picture.member}`;
  return [line];
}

export function drawNetwork(picture) {
  const layers = picture.layers;
  const tallest = Math.max(...layers.map((l) => l.shown.length));
  const width = 150 * layers.length + 220;
  const height = Math.max(160, 22 * tallest + 60);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", class: "network", role: "img" });
  root.style.maxWidth = `${width}px`;
  const title = svg("title", {});
  title.textContent = `trial #${picture.member ?? picture.number}: ${layers.map((l) => l.units).join("-")} units, ${picture.activation}`;
  root.append(title);
  const at = layers.map((layer, i) => {
    const x = 140 + i * 150;
    const n = layer.shown.length;
    return layer.shown.map((_, j) => [x, height / 2 + (j - (n - 1) / 2) * 22]);
  });
  const peak = picture.max_abs_weight || 1;
  const edges = svg("g", { class: "edges" });
  picture.weights.forEach((matrix, i) => {
    matrix.forEach((row, a) => row.forEach((w, b) => {
      const [x1, y1] = at[i][a];
      const [x2, y2] = at[i + 1][b];
      const size = Math.abs(w) / peak;
      edges.append(svg("line", {
        x1, y1, x2, y2,
        stroke: w >= 0 ? "rgb(30, 110, 200)" : "rgb(235, 120, 20)",
        "stroke-width": (0.3 + 3.5 * size).toFixed(2),
        "stroke-opacity": (0.15 + 0.8 * size).toFixed(2),
        "data-weight": w,
      }));
    }));
  });
  root.append(edges);
  layers.forEach((layer, i) => {
    const group = svg("g", { class: "units" });
    layer.shown.forEach((unit, j) => {
      const [x, y] = at[i][j];
      const bias = layer.bias ? layer.bias[j] : 0;
      group.append(svg("circle", { cx: x, cy: y, r: 7, fill: bias >= 0 ? "rgb(200, 225, 250)" : "rgb(252, 222, 190)", stroke: "#444" }));
      if (layer.names) {
        const label = svg("text", { x: i === 0 ? x - 11 : x + 11, y: y + 4, "text-anchor": i === 0 ? "end" : "start", class: "unit-name" });
        label.textContent = layer.names[j];
        group.append(label);
      }
    });
    const caption = svg("text", { x: at[i][0][0], y: 16, "text-anchor": "middle", class: "layer-name" });
    const kind = i === 0 ? "input" : i === layers.length - 1 ? "output" : `hidden ${i}`;
    caption.textContent = layer.shown.length < layer.units ? `${kind} (${layer.shown.length} of ${layer.units})` : `${kind} (${layer.units})`;
    group.append(caption);
    root.append(group);
  });
  return root;
}
