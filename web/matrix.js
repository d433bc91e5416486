// The attention matrix, drawn in the browser from the run's numbers (issue 11; app.attention_matrix).
//
// This file is the body of the gr.HTML component's js_on_load; app.py reads it once at import. Gradio runs it
// once per component instance, with:
//   element  this instance's own <div>, holding the html_template <div class="am" data-attention-matrix>;
//   props    the component's props: props.value (below) and props.selectable (false: Enter and clicks do nothing);
//   trigger  trigger(name, data) fires a Gradio event on this component;
//   watch    watch("value", fn) runs fn after the server sends a new value.
// It reads and writes nothing outside `element`.
//
// props.value, built by app.matrix_value from one run (anything else, e.g. "", shows the empty state):
//   tokens   T visible token strings, such as "␣journey". User text: only ever set with textContent.
//   ids      T GPT-2 token ids, or null when the tokens are a table's labels.
//   scores   T × T scores ω = X Xᵀ, row by row, as one string of T² float32 values in their shortest decimal
//            form, separated by spaces ("null": not finite). One string rather than nested lists: Gradio's frontend
//            turns every element of a value into a reactive proxy, which at T = 256 froze the page for seconds.
//   weights  T × T weights α = softmax(ω / tau), the same way, as the server computed them in float32 (or null).
//   tau      the temperature τ of `weights`.
//   view     "weights" or "scores": which matrix colours the cells.
//   caption  optional line under the title (the facts panel's shuffled matrix says what it shows).
//
// Events it fires for Python:
//   select       Enter, Space or a click on a cell: {index: [row, col], value: weight} (0-based; gr.SelectData).
//   tau_settled  TAU_SETTLE_MS after the last setTau: {tau}. The server's follow-up (context vectors...) hangs on it.
//
// What it offers the page, as `attentionMatrix` on the [data-attention-matrix] element:
//   setTau(tau)     redraw at this τ: softmax(ω / τ) row by row, in float64, from `scores`; no server round trip.
//   setView(view)   "weights" or "scores".
//   weightsAt(tau)  the T × T weights it shows at τ (arrays of numbers), for tests.
//   highlight({rows, cols, cells}) and highlighted(): marks on rows, columns and cells (the lecture's; see below).
// data-version on that element counts the values drawn; data-tau and data-view say what is shown.

"use strict";

const TAU_SETTLE_MS = 250;
const CELLS_MAX_TOKENS = 32; // up to this many tokens, one element per cell with its value; above, a canvas
const LABEL_SPACING_PX = 14; // canvas: at least this many pixels between two axis labels

// viridis, 256 colours as rrggbb: matplotlib 3.11's colormaps["viridis"].colors (the _viridis_data table of
// matplotlib/_cm_listed.py) times 255, rounded. The PNG export draws with the same colormap, and
// tests/test_matrix_component.py checks this copy against matplotlib's.
const VIRIDIS =
    "44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769" +
    "48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a" +
    "472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85" +
    "4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b" +
    "3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d" +
    "33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e" +
    "2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e" +
    "26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d" +
    "21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88" +
    "1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81" +
    "28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74" +
    "3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863" +
    "5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d" +
    "84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32" +
    "addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a" +
    "d8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725";

const LUT_RGB = new Uint8ClampedArray(256 * 3);
const LUT_CSS = [];
const LUT_INK = []; // black or white, whichever contrasts more with the colour (WCAG relative luminance)
for (let i = 0; i < 256; i++) {
  const hex = VIRIDIS.slice(6 * i, 6 * i + 6);
  const rgb = [0, 2, 4].map((k) => parseInt(hex.slice(k, k + 2), 16));
  LUT_RGB.set(rgb, 3 * i);
  LUT_CSS.push("#" + hex);
  const [r, g, b] = rgb.map((c) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4));
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  LUT_INK.push((luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "#000" : "#fff");
}

// matplotlib's mapping: normalize to [0, 1] (0 when the range is empty), then colour floor(x · 256), clamped.
function colourIndex(value, low, high) {
  if (!Number.isFinite(value)) return -1;
  const x = high > low ? (value - low) / (high - low) : 0;
  return Math.min(255, Math.max(0, Math.floor(x * 256)));
}

// Softmax of each row of scores / τ, in float64: exp((ω_ij − max_j ω_ij) / τ) / Σ_j. A row with a non-finite
// score is all NaN, as torch gives.
function softmaxRows(scores, tau) {
  return scores.map((row) => {
    const count = row.length;
    const out = new Float64Array(count);
    let max = -Infinity;
    for (let j = 0; j < count; j++) {
      if (!Number.isFinite(row[j])) return out.fill(NaN);
      if (row[j] > max) max = row[j];
    }
    let sum = 0;
    for (let j = 0; j < count; j++) {
      out[j] = Math.exp((row[j] - max) / tau);
      sum += out[j];
    }
    for (let j = 0; j < count; j++) out[j] /= sum;
    return out;
  });
}

function toRows(packed, count) {
  if (typeof packed !== "string") return null;
  const values = packed.split(" ");
  if (values.length !== count * count) return null;
  const rows = [];
  for (let i = 0; i < count; i++) {
    rows.push(Float64Array.from(values.slice(i * count, (i + 1) * count), Number));
  }
  return rows;
}

function parseValue(value) {
  if (!value || typeof value !== "object" || !Array.isArray(value.tokens) || value.tokens.length === 0) return null;
  const count = value.tokens.length;
  const scores = toRows(value.scores, count);
  if (!scores) return null;
  const tau = Number(value.tau);
  return {
    count,
    tokens: value.tokens.map(String),
    scores,
    serverWeights: toRows(value.weights, count),
    serverTau: tau > 0 && Number.isFinite(tau) ? tau : 1,
    view: value.view === "scores" ? "scores" : "weights",
    caption: typeof value.caption === "string" ? value.caption : "",
  };
}

const four = (v) => (Number.isFinite(v) ? v.toFixed(4) : "not a number");
const two = (v) => (Number.isFinite(v) ? v.toFixed(2) : "–");
const tauText = (t) => String(Number(t.toPrecision(4)));

function make(tag, className, attributes) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  return node;
}

// --- the skeleton, once --------------------------------------------------------------------------

const root = element.querySelector("[data-attention-matrix]");
const uid = (element.id || "am") + "-m";
const head = make("div", "am-head");
const title = make("p", "am-title");
const scaleLabel = make("label", "am-scale");
const fixedBox = make("input", null, { type: "checkbox" });
scaleLabel.append(fixedBox, "Fixed 0–1 colour scale");
head.append(title, scaleLabel);
const caption = make("p", "am-caption");
const body = make("div", "am-body");
const scroller = make("div", "am-scroll");
const grid = make("div", "am-grid", { role: "grid", tabindex: "0", "aria-describedby": uid + "-help" });
scroller.append(grid);
const tip = make("div", "am-tip", { "aria-hidden": "true" });
tip.hidden = true;
body.append(scroller, tip);
const bar = make("div", "am-bar");
const barLabel = make("span", "am-bar-label");
const ramp = make("span", "am-ramp");
const ticks = make("span", "am-ticks");
bar.append(barLabel, ramp, ticks);
ramp.style.background =
  "linear-gradient(to right, " + Array.from({ length: 16 }, (_, k) => LUT_CSS[k * 17]).join(", ") + ")";
const help = make("p", "am-sr", { id: uid + "-help" });
const live = make("p", "am-sr", { "aria-live": "polite", "aria-atomic": "true" });
const details = make("details", "am-summary");
const summaryTitle = make("summary");
summaryTitle.textContent = "Strongest key for each query";
const strongest = make("ol");
details.append(summaryTitle, strongest);
const empty = make("p", "am-empty");
empty.textContent = "The matrix appears here after a run.";
root.replaceChildren(head, caption, body, bar, help, live, details, empty);

// --- state -----------------------------------------------------------------------------------------

let data = null; // parseValue's result
let tau = 1;
let view = "weights";
let weights = null; // T rows of Float64Array at τ
let localTau = null; // a τ from the slider that the server has not been told yet (it wins over a value's)
let pageView = null; // the last view set by the page (it wins over a value's, which may be older)
let fixedScale = false;
let cursor = [0, 0];
let hovered = null;
let focused = false;
let version = 0;
let mode = null; // "cells" or "canvas"
let cells = []; // cells mode: the T · T gridcells, row by row
let canvasParts = null;
let settleTimer = 0;

function weightsAt(t) {
  if (data.serverWeights && t === data.serverTau) return data.serverWeights;
  return softmaxRows(data.scores, t);
}

const shown = () => (view === "scores" ? data.scores : weights);
const selectable = () => props.selectable !== false;

function colourRange(matrix) {
  if (fixedScale && view === "weights") return [0, 1];
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < matrix.length; i++) {
    const row = matrix[i];
    for (let j = 0; j < row.length; j++) {
      const v = row[j];
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  return low <= high ? [low, high] : [0, 1];
}

function describe(r, c) {
  const t = data.tokens;
  return `query ${t[r]} (${r + 1}), key ${t[c]} (${c + 1}): score ${four(data.scores[r][c])}, weight ${four(weights[r][c])}`;
}

// --- building the grid for a new value -----------------------------------------------------------------

function tokenLabel(i) {
  const label = make("span", "am-label");
  const position = make("span", "am-pos");
  position.textContent = String(i + 1);
  const token = make("span", "am-tok");
  token.textContent = data.tokens[i];
  label.append(position, token);
  return label;
}

function corner(role) {
  const node = make("div", "am-corner", role ? { role } : {});
  node.textContent = "query ↓ key →";
  return node;
}

function buildCells() {
  const T = data.count;
  const rows = document.createDocumentFragment();
  const header = make("div", "am-row am-header", { role: "row" });
  header.append(corner("columnheader"));
  for (let j = 0; j < T; j++) {
    const columnHeader = make("div", "am-ch", { role: "columnheader" });
    columnHeader.append(tokenLabel(j));
    header.append(columnHeader);
  }
  rows.append(header);
  cells = new Array(T * T);
  for (let i = 0; i < T; i++) {
    const row = make("div", "am-row", { role: "row" });
    const rowHeader = make("div", "am-rh", { role: "rowheader" });
    rowHeader.append(tokenLabel(i));
    row.append(rowHeader);
    for (let j = 0; j < T; j++) {
      const cell = make("div", "am-cell", { role: "gridcell", id: `${uid}-${i}-${j}` });
      cells[i * T + j] = cell;
      row.append(cell);
    }
    rows.append(row);
  }
  grid.append(rows);
}

// Above CELLS_MAX_TOKENS: one canvas pixel per cell, scaled up with image-rendering: pixelated (crisp at any
// devicePixelRatio), DOM labels every k tokens, and for assistive technology a virtual grid that holds only the
// cursor's column header and the cursor's row (aria-rowindex / aria-colindex place them in the whole grid).
function buildCanvas() {
  const T = data.count;
  const plot = make("div", "am-plot", { "aria-hidden": "true" });
  const xLabels = make("div", "am-xl");
  const yLabels = make("div", "am-yl");
  const wrap = make("div", "am-wrap");
  const canvas = make("canvas");
  canvas.width = T;
  canvas.height = T;
  const hoverBox = make("div", "am-box am-hover-box");
  const cursorBox = make("div", "am-box am-cursor-box");
  wrap.append(canvas, hoverBox, cursorBox);
  plot.append(corner(null), xLabels, yLabels, wrap);
  const virtual = make("div", "am-sr", { role: "rowgroup" });
  const headerRow = make("div", null, { role: "row", "aria-rowindex": "1" });
  const columnHeader = make("span", null, { role: "columnheader" });
  headerRow.append(columnHeader);
  const cursorRow = make("div", null, { role: "row" });
  const rowHeader = make("span", null, { role: "rowheader", "aria-colindex": "1" });
  const cell = make("span", null, { role: "gridcell", id: `${uid}-cursor` });
  cursorRow.append(rowHeader, cell);
  virtual.append(headerRow, cursorRow);
  grid.append(plot, virtual);
  const context = canvas.getContext("2d");
  canvasParts = {
    wrap, xLabels, yLabels, hoverBox, cursorBox, columnHeader, cursorRow, rowHeader, cell, context,
    image: context.createImageData(T, T), step: 0,
  };
  resizer.observe(wrap);
  labelAxes();
}

function labelAxes() {
  const parts = canvasParts;
  const T = data.count;
  const side = parts.wrap.clientWidth || 400;
  const step = Math.max(1, Math.ceil(T / Math.max(2, Math.floor(side / LABEL_SPACING_PX))));
  if (step === parts.step) return;
  parts.step = step;
  const xs = [];
  const ys = [];
  for (let i = 0; i < T; i += step) {
    const where = `${((i + 0.5) / T) * 100}%`;
    const x = tokenLabel(i);
    x.style.left = where;
    xs.push(x);
    const y = tokenLabel(i);
    y.style.top = where;
    ys.push(y);
  }
  parts.xLabels.replaceChildren(...xs);
  parts.yLabels.replaceChildren(...ys);
}

const resizer = new ResizeObserver(() => {
  if (mode === "canvas" && data) labelAxes();
  if (!tip.hidden) refreshTip();
});

function build() {
  const T = data.count;
  resizer.disconnect();
  grid.replaceChildren();
  cells = [];
  canvasParts = null;
  hovered = null;
  mode = T <= CELLS_MAX_TOKENS ? "cells" : "canvas";
  grid.className = "am-grid am-" + mode;
  grid.dataset.size = T <= 8 ? "s" : T <= 16 ? "m" : "l";
  grid.style.setProperty("--am-t", String(T));
  grid.setAttribute("aria-rowcount", String(T + 1));
  grid.setAttribute("aria-colcount", String(T + 1));
  if (mode === "cells") buildCells();
  else buildCanvas();
}

// --- painting: colours, texts, colour bar ----------------------------------------------------------------

function paint() {
  const T = data.count;
  const matrix = shown();
  const [low, high] = colourRange(matrix);
  if (mode === "cells") {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const v = matrix[i][j];
        const k = colourIndex(v, low, high);
        const style = cells[i * T + j].style;
        style.backgroundColor = k < 0 ? "" : LUT_CSS[k];
        style.color = k < 0 ? "" : LUT_INK[k];
        cells[i * T + j].textContent = two(v);
      }
    }
  } else {
    const pixels = canvasParts.image.data;
    for (let i = 0, p = 0; i < T; i++) {
      const row = matrix[i];
      for (let j = 0; j < T; j++, p += 4) {
        const k = 3 * colourIndex(row[j], low, high);
        pixels[p] = k < 0 ? 128 : LUT_RGB[k];
        pixels[p + 1] = k < 0 ? 128 : LUT_RGB[k + 1];
        pixels[p + 2] = k < 0 ? 128 : LUT_RGB[k + 2];
        pixels[p + 3] = 255;
      }
    }
    canvasParts.context.putImageData(canvasParts.image, 0, 0);
  }
  const what = view === "scores" ? "Attention scores ω" : "Attention weights α";
  title.textContent =
    view === "scores"
      ? "Attention scores ω = X Xᵀ (raw dot products); rows: queries, columns: keys"
      : `Attention weights α = ${tau === 1 ? "softmax(ω)" : `softmax(ω / ${tauText(tau)})`}, row by row; rows: queries, columns: keys`;
  grid.setAttribute("aria-label", `${what}, ${T} by ${T}, τ = ${tauText(tau)}. Rows are queries, columns are keys.`);
  help.textContent =
    "Arrow keys move between cells; Home and End go to the first and last key of the row, Page Up and Page Down " +
    "to the first and last query of the column." +
    (selectable() ? " Enter traces the cell under Trace one cell." : "") +
    " Below the matrix, a list gives each query's strongest key.";
  caption.textContent = data.caption;
  caption.hidden = !data.caption;
  fixedBox.disabled = view === "scores";
  fixedBox.checked = fixedScale && view === "weights";
  paintBar(low, high);
  root.dataset.tau = String(tau);
  root.dataset.view = view;
  placeCursor(false);
  if (details.open) summarize();
}

function paintBar(low, high) {
  const fixed = fixedScale && view === "weights";
  barLabel.textContent = `${view === "scores" ? "score ω" : "weight α"} (${fixed ? "fixed scale 0–1" : "this run's range"})`;
  const span = high - low;
  const digits = span > 0 ? Math.min(6, Math.max(2, Math.ceil(-Math.log10(span)) + 1)) : 4;
  ticks.replaceChildren(
    ...[low, (low + high) / 2, high].map((v) => {
      const tick = make("span");
      tick.textContent = v.toFixed(digits);
      return tick;
    }),
  );
}

function summarize() {
  const items = data.tokens.map((token, i) => {
    const row = data.scores[i];
    let best = 0;
    for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
    const item = make("li");
    item.textContent = `${token} (${i + 1}) → ${data.tokens[best]} (${best + 1}): weight ${four(weights[i][best])}`;
    return item;
  });
  strongest.replaceChildren(...items);
}

// --- cursor, hover, tooltip --------------------------------------------------------------------------------

function placeBox(box, r, c) {
  const T = data.count;
  box.style.left = `calc(${(c / T) * 100}% - 2px)`;
  box.style.top = `calc(${(r / T) * 100}% - 2px)`;
  box.style.width = box.style.height = `calc(${100 / T}% + 4px)`;
}

function placeCursor(announce) {
  const [r, c] = cursor;
  if (mode === "cells") {
    grid.querySelector(".am-cursor")?.classList.remove("am-cursor");
    const cell = cells[r * data.count + c];
    cell.classList.add("am-cursor");
    grid.setAttribute("aria-activedescendant", cell.id);
    if (announce) cell.scrollIntoView({ block: "nearest", inline: "nearest" });
  } else {
    const parts = canvasParts;
    placeBox(parts.cursorBox, r, c);
    parts.columnHeader.setAttribute("aria-colindex", String(c + 2));
    parts.columnHeader.textContent = `key ${data.tokens[c]} (${c + 1})`;
    parts.cursorRow.setAttribute("aria-rowindex", String(r + 2));
    parts.rowHeader.textContent = `query ${data.tokens[r]} (${r + 1})`;
    parts.cell.setAttribute("aria-colindex", String(c + 2));
    parts.cell.textContent = four(shown()[r][c]);
    grid.setAttribute("aria-activedescendant", parts.cell.id);
  }
  if (announce) live.textContent = describe(r, c);
  refreshTip();
}

function cellAt(event) {
  if (!data) return null;
  if (mode === "cells") {
    const cell = event.target.closest?.(".am-cell");
    if (!cell || !grid.contains(cell)) return null;
    const index = cells.indexOf(cell);
    return index < 0 ? null : [Math.floor(index / data.count), index % data.count];
  }
  const box = canvasParts.wrap.getBoundingClientRect();
  const x = (event.clientX - box.left) / box.width;
  const y = (event.clientY - box.top) / box.height;
  if (!(x >= 0 && x < 1 && y >= 0 && y < 1)) return null;
  return [Math.floor(y * data.count), Math.floor(x * data.count)];
}

function cellBox(r, c) {
  if (mode === "cells") return cells[r * data.count + c].getBoundingClientRect();
  const box = canvasParts.wrap.getBoundingClientRect();
  const side = box.width / data.count;
  return { left: box.left + c * side, top: box.top + r * side, width: side, bottom: box.top + (r + 1) * side };
}

function refreshTip() {
  const target = hovered || (focused && data ? cursor : null);
  if (!target || !data) {
    tip.hidden = true;
    return;
  }
  const [r, c] = target;
  const line = (role, i) => {
    const row = make("div");
    const token = make("span", "am-tok");
    token.textContent = data.tokens[i];
    row.append(role + " ", token, ` (${i + 1})`);
    return row;
  };
  const numbers = make("dl");
  for (const [name, value] of [["score ω", data.scores[r][c]], [`weight α at τ = ${tauText(tau)}`, weights[r][c]]]) {
    const term = make("dt");
    term.textContent = name;
    const number = make("dd");
    number.textContent = four(value);
    numbers.append(term, number);
  }
  tip.replaceChildren(line("query", r), line("key", c), numbers);
  tip.hidden = false;
  const cell = cellBox(r, c);
  const frame = body.getBoundingClientRect();
  const left = Math.min(Math.max(0, cell.left + cell.width / 2 - frame.left - tip.offsetWidth / 2),
                        Math.max(0, frame.width - tip.offsetWidth));
  let top = cell.top - frame.top - tip.offsetHeight - 6;
  if (top < 0) top = cell.bottom - frame.top + 6;
  tip.style.left = `${left}px`;
  tip.style.top = `${top}px`;
}

function setHover(target) {
  const same = hovered && target && hovered[0] === target[0] && hovered[1] === target[1];
  if (same || (!hovered && !target)) return;
  hovered = target;
  if (mode === "cells") {
    grid.querySelector(".am-hover")?.classList.remove("am-hover");
    if (target) cells[target[0] * data.count + target[1]].classList.add("am-hover");
  } else if (canvasParts) {
    canvasParts.hoverBox.classList.toggle("am-on", !!target);
    if (target) placeBox(canvasParts.hoverBox, ...target);
  }
  refreshTip();
}

function select() {
  if (!data || !selectable()) return;
  const [r, c] = cursor;
  trigger("select", { index: [r, c], value: weights[r][c], selected: true });
}

// --- listeners (attached once; they find their target by delegation) ------------------------------------

grid.addEventListener("pointermove", (event) => setHover(cellAt(event)));
grid.addEventListener("pointerleave", () => setHover(null));
grid.addEventListener("click", (event) => {
  const target = cellAt(event);
  if (!target) return;
  cursor = target;
  grid.focus({ preventScroll: true });
  placeCursor(true);
  select();
});
grid.addEventListener("focus", () => {
  focused = true;
  if (data) placeCursor(true);
});
grid.addEventListener("blur", () => {
  focused = false;
  refreshTip();
});
grid.addEventListener("keydown", (event) => {
  if (!data || event.altKey || event.metaKey) return;
  const last = data.count - 1;
  let [r, c] = cursor;
  switch (event.key) {
    case "ArrowUp": r -= 1; break;
    case "ArrowDown": r += 1; break;
    case "ArrowLeft": c -= 1; break;
    case "ArrowRight": c += 1; break;
    case "Home": c = 0; if (event.ctrlKey) r = 0; break;
    case "End": c = last; if (event.ctrlKey) r = last; break;
    case "PageUp": r = 0; break;
    case "PageDown": r = last; break;
    case "Enter":
    case " ":
      event.preventDefault();
      select();
      return;
    case "Escape":
      setHover(null);
      tip.hidden = true;
      return;
    default:
      return;
  }
  event.preventDefault();
  cursor = [Math.min(last, Math.max(0, r)), Math.min(last, Math.max(0, c))];
  placeCursor(true);
});
fixedBox.addEventListener("change", () => {
  fixedScale = fixedBox.checked;
  if (data) paint();
});
details.addEventListener("toggle", () => {
  if (details.open && data) summarize();
});

// --- values from the server, τ and view from the page -------------------------------------------------

function show(value) {
  const previous = data;
  data = parseValue(value);
  root.classList.toggle("am-has-data", !!data);
  if (!data) {
    resizer.disconnect();
    grid.replaceChildren();
    mode = null;
    hovered = null;
    tip.hidden = true;
    strongest.replaceChildren();
    return;
  }
  const sameTokens = previous && previous.count === data.count && previous.tokens.every((t, i) => t === data.tokens[i]);
  if (!sameTokens) cursor = [Math.min(1, data.count - 1), 0]; // where "Trace one cell" starts: query 2, key 1
  tau = localTau ?? data.serverTau;
  view = pageView ?? data.view;
  weights = weightsAt(tau);
  build();
  paint();
  drawMarks(); // the highlight block below
  version += 1;
  root.dataset.version = String(version);
}

function setTau(value) {
  const next = Number(value);
  if (!(next > 0) || !Number.isFinite(next) || next === (localTau ?? tau)) return;
  localTau = next;
  if (data) {
    tau = next;
    weights = weightsAt(tau);
    paint();
  }
  clearTimeout(settleTimer);
  settleTimer = setTimeout(() => {
    localTau = null; // handed to the server: from now on its values carry this τ or a later one
    trigger("tau_settled", { tau: next });
  }, TAU_SETTLE_MS);
}

function setView(next) {
  pageView = next === "scores" ? "scores" : "weights";
  if (data && pageView !== view) {
    view = pageView;
    paint();
  }
}

// --- highlight: what the lecture points at (web/lecture.py) ---------------------------------------------
// highlight({rows, cols, cells}) marks whole rows, whole columns and single cells ([row, col]), all 0-based, on top
// of the colours; highlight(null) clears. The marks stay across new values and τ; entries outside the matrix are
// dropped. highlighted() and data-highlight (JSON) say what is marked. Kept apart from the drawing above: the only
// hook into it is one call to drawMarks() at the end of show().

let marks = { rows: [], cols: [], cells: [] };

function cleanMarks(spec) {
  const whole = (list) => (Array.isArray(list) ? list.map(Number).filter(Number.isInteger) : []);
  const pairs = Array.isArray(spec?.cells) ? spec.cells.filter((c) => Array.isArray(c) && c.length === 2) : [];
  return { rows: whole(spec?.rows), cols: whole(spec?.cols), cells: pairs.map(whole).filter((c) => c.length === 2) };
}

function drawMarks() {
  const T = data ? data.count : 0;
  const inside = (i) => i >= 0 && i < T;
  const rows = marks.rows.filter(inside);
  const cols = marks.cols.filter(inside);
  const pairs = marks.cells.filter(([r, c]) => inside(r) && inside(c));
  root.dataset.highlight = JSON.stringify({ rows, cols, cells: pairs });
  grid.querySelectorAll(".am-mark").forEach((node) => (node.classList.contains("am-box") ? node.remove() : node.classList.remove("am-mark")));
  if (!T) return;
  if (mode === "cells") {
    const headers = grid.querySelectorAll(".am-rh");
    const columnHeaders = grid.querySelectorAll(".am-ch");
    rows.forEach((r) => { headers[r].classList.add("am-mark"); for (let c = 0; c < T; c++) cells[r * T + c].classList.add("am-mark"); });
    cols.forEach((c) => { columnHeaders[c].classList.add("am-mark"); for (let r = 0; r < T; r++) cells[r * T + c].classList.add("am-mark"); });
    pairs.forEach(([r, c]) => cells[r * T + c].classList.add("am-mark"));
  } else if (canvasParts) {
    const box = (r, c, height, width) => {
      const node = make("div", "am-box am-mark");
      node.style.left = `${(c / T) * 100}%`;
      node.style.top = `${(r / T) * 100}%`;
      node.style.width = `${(width / T) * 100}%`;
      node.style.height = `${(height / T) * 100}%`;
      canvasParts.wrap.append(node);
    };
    rows.forEach((r) => box(r, 0, 1, T));
    cols.forEach((c) => box(0, c, T, 1));
    pairs.forEach(([r, c]) => box(r, c, 1, 1));
  }
}

function highlight(spec) {
  marks = cleanMarks(spec);
  drawMarks();
}

root.attentionMatrix = {
  setTau,
  setView,
  highlight,
  highlighted: () => JSON.parse(root.dataset.highlight || "null"),
  weightsAt: (t) => (data ? weightsAt(Number(t)).map((row) => Array.from(row)) : null),
};
root.dataset.version = "0";
show(props.value);
watch("value", () => show(props.value));
