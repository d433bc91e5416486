// The attention matrix's view: the DOM it builds, its listeners and what it offers the page (issue 11).
//
// web/matrix.py joins web/matrix-core.js (the pure part: colour tables, colourIndex, colourRange, softmaxRows,
// toRows, parseValue and the digits of every number, tested by `node --test web/*.test.mjs`) and this file, in
// that order, into the body of the gr.HTML component's js_on_load, read once at import. Gradio runs it once per
// component instance, with:
//   element  this instance's own <div>, holding the html_template <div class="am" data-attention-matrix>;
//   props    the component's props: props.value (below) and props.selectable (false: Enter and clicks do nothing);
//   trigger  trigger(name, data) fires a Gradio event on this component;
//   watch    watch("value", fn) runs fn after the server sends a new value.
// It reads and writes nothing outside `element`.
//
// props.value, built by matrix_value from one run (anything else shows the empty state, in the words of a
// non-empty string value when it is one):
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
//   select       Enter, Space, a click or a tap on a cell: {index: [row, col], value: weight} (0-based; gr.SelectData).
//   tau_settled  TAU_SETTLE_MS after the last setTau: {tau}. The server's follow-up (context vectors...) hangs on it.
//
// What it offers the page, as `attentionMatrix` on the [data-attention-matrix] element:
//   setTau(tau)     redraw at this τ: softmax(ω / τ) row by row, in float64, from `scores`; no server round trip.
//   setView(view)   "weights" or "scores".
//   weightsAt(tau)  the T × T weights it shows at τ (arrays of numbers), for tests.
//   highlight({rows, cols, cells}) and highlighted(): marks on rows, columns and cells (the lecture's; see below).
// data-version on that element counts the values drawn; data-tau and data-view say what is shown.
//
// The tooltip, the live region and the list of strongest keys print each number with the digits its float32
// computation supports (formatScore, formatWeight), from weights recomputed in float64 from the scores.

const TAU_SETTLE_MS = 250;
const CELLS_MAX_TOKENS = 32; // up to this many tokens, one element per cell with its value; above, a canvas
const LABEL_SPACING_PX = 14; // canvas: at least this many pixels between two axis labels

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
let weights = null; // T rows of Float64Array at τ: the server's float32 weights at its τ, else float64
let precise = null; // the same weights, always in float64 from the scores: what the texts print
let delta = 0; // the error bound of every score (scoreError): it sets the digits printed
let localTau = null; // a τ from the slider that the server has not been told yet (it wins over a value's)
let pageView = null; // the last view set by the page (it wins over a value's, which may be older)
let fixedScale = false;
let cursor = [0, 0];
let hovered = null;
let focused = false;
let pressed = null; // the cell a pointer went down on, until its click
let pointing = false; // a pointer went down on the grid: the focus it brings must not scroll
let version = 0;
let mode = null; // "cells" or "canvas"
let cells = []; // cells mode: the T · T gridcells, row by row
let canvasParts = null;
let settleTimer = 0;

function weightsAt(t) {
  if (data.serverWeights && t === data.serverTau) return data.serverWeights;
  return softmaxRows(data.scores, t);
}

function setWeights(t) {
  tau = t;
  precise = softmaxRows(data.scores, t);
  weights = data.serverWeights && t === data.serverTau ? data.serverWeights : precise;
}

const shown = () => (view === "scores" ? data.scores : weights);
const selectable = () => props.selectable !== false;

const scoreText = (r, c) => formatScore(data.scores[r][c], delta);
const weightText = (r, c) => formatWeight(precise[r][c], delta, tau);

function describe(r, c) {
  const t = data.tokens;
  return `query ${t[r]} (${r + 1}), key ${t[c]} (${c + 1}): score ${scoreText(r, c)}, weight ${weightText(r, c)}`;
}

// --- building the grid for a new value -----------------------------------------------------------------

function tokenLabel(i) {
  const label = make("span", "am-label");
  const position = make("span", "am-pos");
  position.textContent = String(i + 1);
  const token = make("span", "am-tok");
  token.textContent = data.tokens[i];
  label.append(position, " ", token); // the space: a screen reader says "1 Your", not "1Your"
  return label;
}

function corner(role) {
  const node = make("div", "am-corner", role ? { role } : {});
  const query = make("span");
  query.textContent = "query ↓";
  const key = make("span");
  key.textContent = "key →";
  node.append(query, " ", key); // two lines where the label column is narrow
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
  const [low, high] = colourRange(matrix, fixedScale && view === "weights");
  if (mode === "cells") {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const v = matrix[i][j];
        const error = view === "scores" ? delta : weightError(precise[i][j], delta, tau);
        const k = colourIndex(v, low, high);
        const style = cells[i * T + j].style;
        style.backgroundColor = k < 0 ? "" : LUT_CSS[k];
        style.color = k < 0 ? "" : LUT_INK[k];
        cells[i * T + j].textContent = cellText(v, error);
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
    item.textContent = `${token} (${i + 1}) → ${data.tokens[best]} (${best + 1}): weight ${weightText(i, best)}`;
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

// announce: say the cell in the live region; reveal: scroll it into view (the keyboard moved it; never for a
// pointer, whose cell is already under it).
function placeCursor(announce, reveal = announce) {
  const [r, c] = cursor;
  if (mode === "cells") {
    grid.querySelector(".am-cursor")?.classList.remove("am-cursor");
    const cell = cells[r * data.count + c];
    cell.classList.add("am-cursor");
    grid.setAttribute("aria-activedescendant", cell.id);
    if (reveal) cell.scrollIntoView({ block: "nearest", inline: "nearest" });
  } else {
    const parts = canvasParts;
    placeBox(parts.cursorBox, r, c);
    parts.columnHeader.setAttribute("aria-colindex", String(c + 2));
    parts.columnHeader.textContent = `key ${data.tokens[c]} (${c + 1})`;
    parts.cursorRow.setAttribute("aria-rowindex", String(r + 2));
    parts.rowHeader.textContent = `query ${data.tokens[r]} (${r + 1})`;
    parts.cell.setAttribute("aria-colindex", String(c + 2));
    parts.cell.textContent = view === "scores" ? scoreText(r, c) : weightText(r, c);
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
  return cellAtFraction((event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height, data.count);
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
  for (const [name, text] of [["score ω", scoreText(r, c)], [`weight α at τ = ${tauText(tau)}`, weightText(r, c)]]) {
    const term = make("dt");
    term.textContent = name;
    const number = make("dd");
    number.textContent = text;
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
// A press (mouse, pen or touch) sets the cursor at once: the focus that follows it must neither show nor scroll to
// the old cursor, and the click then traces the cell the press was on, wherever the page is.
grid.addEventListener("pointerdown", (event) => {
  pointing = true;
  pressed = cellAt(event);
  if (!pressed) return;
  cursor = pressed;
  placeCursor(false, false);
});
grid.addEventListener("pointercancel", () => {
  pressed = null; // a touch that became a scroll: no click follows
});
grid.addEventListener("click", (event) => {
  const target = cellAt(event) ?? pressed;
  pressed = null;
  if (!target) return;
  cursor = target;
  grid.focus({ preventScroll: true });
  placeCursor(true, false);
  select();
});
grid.addEventListener("focus", () => {
  focused = true;
  if (data) placeCursor(true, !pointing);
  pointing = false;
});
grid.addEventListener("blur", () => {
  focused = false;
  pointing = false;
  refreshTip();
});
grid.addEventListener("keydown", (event) => {
  if (!data || event.altKey || event.metaKey) return;
  pressed = null;
  pointing = false;
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
    // A string value is the empty state's own words (the shuffled matrix: "Press Shuffle…"); anything else, ours.
    empty.textContent = typeof value === "string" && value ? value : "The matrix appears here after a run.";
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
  delta = scoreError(data.scores);
  view = pageView ?? data.view;
  setWeights(localTau ?? data.serverTau);
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
    setWeights(next);
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
