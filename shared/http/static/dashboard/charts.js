// Line charts drawn as plain SVG from samples the page takes itself (nothing loaded from
// elsewhere). A series is one link; its colour stays the same while the page is open.

const SVG_NS = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f6fb2", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d"];

class Samples {
  // `limit` samples per series, oldest dropped first.
  constructor(limit) {
    this.limit = limit;
    this.series = new Map(); // key → { label, colour, points: [[ms, value]] }
  }

  add(at, key, label, value) {
    if (!this.series.has(key)) {
      this.series.set(key, { label, colour: PALETTE[this.series.size % PALETTE.length], points: [] });
    }
    const series = this.series.get(key);
    series.label = label;
    series.points.push([at, Number(value) || 0]);
    if (series.points.length > this.limit) series.points.shift();
  }

  clear() { this.series.clear(); }
}

function svg(name, attributes = {}, text = null) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

// A rounded top for the y axis: 1, 2, 5 × a power of ten, so the grid reads easily.
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value);
}

function clock(ms) { return new Date(ms).toLocaleTimeString(language === "zh" ? "zh-CN" : "en-GB"); }

function drawLineChart(target, samples, title) {
  const width = 560, height = 200, left = 48, right = 12, top = 24, bottom = 28;
  const all = [...samples.series.values()].flatMap((s) => s.points);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart" });
  chart.append(svg("title", {}, title), svg("text", { x: left, y: 14, class: "chart-title" }, title));
  if (!all.length) {
    chart.append(svg("text", { x: width / 2, y: height / 2, class: "chart-empty", "text-anchor": "middle" }, t("chart.empty")));
    target.replaceChildren(chart);
    return;
  }
  const t0 = Math.min(...all.map((p) => p[0])), t1 = Math.max(...all.map((p) => p[0]));
  const yMax = niceMax(Math.max(...all.map((p) => p[1])));
  const x = (ms) => left + (t1 === t0 ? 0 : ((ms - t0) / (t1 - t0)) * (width - left - right));
  const y = (v) => height - bottom - (v / yMax) * (height - top - bottom);
  for (const fraction of [0, 0.5, 1]) {
    const value = yMax * fraction;
    chart.append(
      svg("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "grid" }),
      svg("text", { x: left - 6, y: y(value) + 4, "text-anchor": "end", class: "axis" }, String(+value.toPrecision(3))),
    );
  }
  chart.append(
    svg("text", { x: left, y: height - 8, class: "axis" }, clock(t0)),
    svg("text", { x: width - right, y: height - 8, "text-anchor": "end", class: "axis" }, clock(t1)),
  );
  for (const series of samples.series.values()) {
    const points = series.points.map(([ms, v]) => `${x(ms).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    const line = svg("polyline", { points, fill: "none", stroke: series.colour, "stroke-width": 2 });
    line.append(svg("title", {}, series.label));
    chart.append(line);
  }
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const series of samples.series.values()) {
    const item = document.createElement("li");
    const swatch = svg("svg", { width: 14, height: 4, "aria-hidden": "true" });
    swatch.append(svg("rect", { width: 14, height: 4, fill: series.colour }));
    item.append(swatch, document.createTextNode(` ${series.label}`));
    legend.append(item);
  }
  target.replaceChildren(chart, legend);
}
