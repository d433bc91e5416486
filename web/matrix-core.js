// The attention matrix's pure JavaScript: no DOM, no Gradio, nothing read from the page.
//
// web/matrix.py joins this file and web/matrix.js (the view) into the component's one js_on_load script, this
// file first; node's own test runner loads it as a CommonJS module (web/matrix-core.test.mjs). Everything here
// is a pure function of its arguments or a constant table.

"use strict";

// viridis, 256 colours as rrggbb: matplotlib 3.11's colormaps["viridis"].colors (the _viridis_data table of
// matplotlib/_cm_listed.py) times 255, rounded. The PNG export draws with the same colormap, and
// tests/web/test_matrix_component.py checks this copy against matplotlib's.
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

// The colour tables, from VIRIDIS: rgb triples (for the canvas), "#rrggbb" (for cells) and the ink of a cell's
// text, black or white, whichever contrasts more with its colour (WCAG relative luminance).
const LUT_RGB = new Uint8ClampedArray(256 * 3);
const LUT_CSS = [];
const LUT_INK = [];
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
// Not finite: -1 (no colour).
function colourIndex(value, low, high) {
  if (!Number.isFinite(value)) return -1;
  const x = high > low ? (value - low) / (high - low) : 0;
  return Math.min(255, Math.max(0, Math.floor(x * 256)));
}

// The colour scale's [low, high]: [0, 1] for a fixed scale, else the matrix's finite range ([0, 1] if none).
function colourRange(matrix, fixed) {
  if (fixed) return [0, 1];
  let low = Infinity;
  let high = -Infinity;
  for (const row of matrix) {
    for (const v of row) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  return low <= high ? [low, high] : [0, 1];
}

// Softmax of each row of scores / τ, in float64: exp((ω_ij − max_j ω_ij) / τ) / Σ_j. A row with a non-finite
// score is all NaN, as torch gives. scores: T rows of T numbers; returns T Float64Arrays.
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

// The wire format of one T × T matrix: one string of T² numbers, row by row, separated by single spaces, each a
// float32 in its shortest decimal form or "null" (not finite). Returns T Float64Arrays (null becomes NaN), or
// null when the string does not hold exactly T² numbers.
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

// The component's value (documented at the top of web/matrix.js), checked: null for anything else.
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

// --- digits: each number with the digits its float32 computation supports ------------------------------------
//
// A score ω_ij = Σ_k x_ik x_jk is a float32 dot product of d terms. Its absolute error is at most a few units in
// the last place of the largest |score| in play (measured: ≤ 6 units, 2^-24 each, at d = 768 and T = 40), so
// SCORE_ERROR = 2^-20 (16 units) of the matrix's largest |ω| bounds every cell's error with room to spare. The
// scores' error passes into a weight α = softmax(ω / τ) as ∂α_j/∂ω_k = α_j (1[j = k] − α_k) / τ, so
// |Δα_j| ≤ 2 δ α_j (1 − α_j) / τ; the browser's float64 softmax adds a few float64 units, and a float64 below
// 2^-1022 (subnormal) keeps fewer digits (an absolute error of up to Number.MIN_VALUE).
//
// A number is printed to the smallest power of ten that is at least twice its error bound: then the printed value
// is within one unit of its last digit of the exact one. Never more than FLOAT32_DIGITS significant digits (a
// float32 carries about 7), and in plain decimals unless the number is below 1e-4 or at least 1e6 (then 5.12e-5).

const SCORE_ERROR = 2 ** -20;
const FLOAT64_ERROR = 4 * 2 ** -53;
const FLOAT32_DIGITS = 7;

// δ: the error bound shared by every score of the matrix, from its largest finite |ω|.
function scoreError(scores) {
  let largest = 0;
  for (const row of scores) {
    for (const v of row) if (Number.isFinite(v) && Math.abs(v) > largest) largest = Math.abs(v);
  }
  return SCORE_ERROR * largest;
}

// The error bound of a weight α computed in float64 from scores with error δ, at temperature τ.
function weightError(alpha, delta, tau) {
  return (2 * delta * alpha * (1 - alpha)) / tau + FLOAT64_ERROR * alpha + Number.MIN_VALUE;
}

// The printed unit of a number with this error bound: a power of ten, as its exponent (−4 means 0.0001).
function unitExponent(value, error) {
  let exponent = error > 0 ? Math.ceil(Math.log10(2 * error)) : -Infinity;
  if (value !== 0 && Number.isFinite(value)) {
    exponent = Math.max(exponent, Math.floor(Math.log10(Math.abs(value))) - FLOAT32_DIGITS + 1);
  }
  return Number.isFinite(exponent) ? exponent : -4; // an exact zero: the book's 4 decimals
}

// value printed to the unit 10^exponent: "763.87", "0.23330", "5.1242e-5", "0.00" (zero to that unit).
function formatToUnit(value, exponent) {
  if (!Number.isFinite(value)) return "not a number";
  if (value === 0 && exponent < -10) return "0"; // only a float64 underflow: below 5e-324
  const magnitude = value === 0 ? -Infinity : Math.floor(Math.log10(Math.abs(value)));
  const significant = magnitude - exponent + 1;
  if ((magnitude < -4 || magnitude >= 6) && significant >= 1) {
    const [mantissa, power] = value.toExponential(significant - 1).split("e");
    return `${mantissa}e${Number(power)}`;
  }
  if (exponent >= 0) return String(Math.round(value / 10 ** exponent) * 10 ** exponent);
  return value.toFixed(Math.min(100, -exponent));
}

// A score of a matrix whose scores have the error bound delta (scoreError).
function formatScore(value, delta) {
  return formatToUnit(value, unitExponent(value, delta));
}

// A weight α at temperature τ, computed in float64 from scores with the error bound delta.
function formatWeight(alpha, delta, tau) {
  return formatToUnit(alpha, unitExponent(alpha, weightError(alpha, delta, tau)));
}

// A cell's own text, for a value with this error bound: 2 decimals (a cell is narrow), or fewer when the
// error does not support 2.
function cellText(value, error) {
  if (!Number.isFinite(value)) return "–";
  const exponent = Math.max(-2, error > 0 ? Math.ceil(Math.log10(2 * error)) : -2);
  return exponent < 0 ? value.toFixed(-exponent) : String(Math.round(value / 10 ** exponent) * 10 ** exponent);
}

// τ as the page says it: at most 4 significant digits, no trailing zeros ("1.732", "0.05").
const tauText = (t) => String(Number(t.toPrecision(4)));

// The canvas cell under a point, from its position in the plot's box as fractions of its side: [row, column], or
// null outside the plot.
function cellAtFraction(x, y, count) {
  if (!(x >= 0 && x < 1 && y >= 0 && y < 1)) return null;
  return [Math.min(count - 1, Math.floor(y * count)), Math.min(count - 1, Math.floor(x * count))];
}

// node --test loads this file as a CommonJS module; in the joined browser script `module` is undefined.
if (typeof module !== "undefined" && module.exports) {
  module.exports = {
    VIRIDIS, LUT_RGB, LUT_CSS, LUT_INK, SCORE_ERROR, FLOAT32_DIGITS,
    colourIndex, colourRange, softmaxRows, toRows, parseValue,
    scoreError, weightError, unitExponent, formatToUnit, formatScore, formatWeight, cellText, tauText,
    cellAtFraction,
  };
}
