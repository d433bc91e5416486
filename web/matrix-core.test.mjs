// node --test web/*.test.mjs: the matrix's pure JavaScript (web/matrix-core.js), with no browser and no packages.
// Expected values are computed by hand (float64) or taken from the book's chapter 3.3.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";

const core = createRequire(import.meta.url)("./matrix-core.js");

// The book's six inputs (chapter 3.3, "Your journey starts with one step") and its printed attention scores.
const BOOK_INPUTS = [
  [0.43, 0.15, 0.89],
  [0.55, 0.87, 0.66],
  [0.57, 0.85, 0.64],
  [0.22, 0.58, 0.33],
  [0.77, 0.25, 0.1],
  [0.05, 0.8, 0.55],
];
const dot = (a, b) => a.reduce((sum, v, k) => sum + v * b[k], 0);
const BOOK_SCORES = BOOK_INPUTS.map((x) => BOOK_INPUTS.map((y) => dot(x, y)));

const close = (actual, expected, tolerance, message) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${message}: ${actual} vs ${expected} (± ${tolerance})`);

test("softmaxRows gives the book's weights for query 2 (journey)", () => {
  const [row] = core.softmaxRows([BOOK_SCORES[1]], 1);
  const book = [0.1385, 0.2379, 0.2333, 0.124, 0.1082, 0.1581]; // printed to 4 decimals
  row.forEach((w, j) => close(w, book[j], 5e-5, `α_2${j + 1}`));
  close(
    row.reduce((a, b) => a + b),
    1,
    1e-15,
    "row sum",
  );
});

test("softmaxRows: a hand-computed row, temperature, and the max shift", () => {
  // softmax([0, ln 2, ln 3]) = [1, 2, 3] / 6 exactly, in real numbers
  const [row] = core.softmaxRows([[0, Math.log(2), Math.log(3)]], 1);
  [1 / 6, 2 / 6, 3 / 6].forEach((w, j) => close(row[j], w, 1e-15, `j = ${j}`));
  // τ = 2 halves the exponents: softmax([0, 2 ln 2] / 2) = [1, 2] / 3
  const [tempered] = core.softmaxRows([[0, 2 * Math.log(2)]], 2);
  close(tempered[0], 1 / 3, 1e-15, "τ = 2, first");
  close(tempered[1], 2 / 3, 1e-15, "τ = 2, second");
  // Scores far beyond exp's range: the shift by the row's largest keeps them finite
  const [huge] = core.softmaxRows([[1000, 1000 + Math.log(3)]], 1);
  close(huge[0], 0.25, 1e-13, "shifted, first");
  close(huge[1], 0.75, 1e-13, "shifted, second");
});

test("softmaxRows: a row holding a non-finite score is all NaN, as torch gives", () => {
  const [bad, good] = core.softmaxRows(
    [
      [1, NaN, 2],
      [0, 0, 0],
    ],
    1,
  );
  assert.ok(Array.from(bad).every(Number.isNaN));
  assert.deepEqual(Array.from(good), [1 / 3, 1 / 3, 1 / 3]);
});

test("colourIndex maps like matplotlib: floor(x · 256), clamped, -1 for not finite", () => {
  assert.equal(core.colourIndex(0, 0, 1), 0);
  assert.equal(core.colourIndex(1, 0, 1), 255); // x = 1 would be 256: clamped
  assert.equal(core.colourIndex(0.5, 0, 1), 128);
  assert.equal(core.colourIndex(255 / 256, 0, 1), 255);
  assert.equal(core.colourIndex(255 / 256 - 1e-12, 0, 1), 254);
  assert.equal(core.colourIndex(1 / 256, 0, 1), 1);
  assert.equal(core.colourIndex(-5, 0, 1), 0);
  assert.equal(core.colourIndex(7, 0, 1), 255);
  assert.equal(core.colourIndex(3, 3, 3), 0); // an empty range: the lowest colour
  assert.equal(core.colourIndex(NaN, 0, 1), -1);
  assert.equal(core.colourIndex(Infinity, 0, 1), -1);
});

test("colourRange: the finite range, or [0, 1] when fixed or empty", () => {
  assert.deepEqual(core.colourRange([Float64Array.of(2, NaN), Float64Array.of(-1, 5)], false), [-1, 5]);
  assert.deepEqual(core.colourRange([Float64Array.of(2, 3)], true), [0, 1]);
  assert.deepEqual(core.colourRange([Float64Array.of(NaN)], false), [0, 1]);
});

test("the colour tables: viridis's ends, and readable ink on each colour", () => {
  assert.equal(core.LUT_CSS.length, 256);
  assert.equal(core.LUT_CSS[0], "#440154"); // viridis starts dark purple
  assert.equal(core.LUT_CSS[255], "#fde725"); // and ends yellow
  assert.deepEqual(Array.from(core.LUT_RGB.slice(0, 3)), [0x44, 0x01, 0x54]);
  assert.equal(core.LUT_INK[0], "#fff");
  assert.equal(core.LUT_INK[255], "#000");
  // Every colour's ink contrasts at least 4.5 : 1 (WCAG AA for text)
  const luminance = (hex) => {
    const [r, g, b] = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16) / 255);
    const linear = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  core.LUT_CSS.forEach((colour, i) => {
    const [a, b] = [luminance(colour), core.LUT_INK[i] === "#000" ? 0 : 1];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    assert.ok(ratio >= 4.5, `${colour} with ${core.LUT_INK[i]}: ${ratio}`);
  });
});

test("toRows reads the packed-floats wire format, null as NaN", () => {
  const rows = core.toRows("0.9995 null -1.5e-07 3.4028235e+38", 2);
  assert.equal(rows.length, 2);
  assert.equal(rows[0][0], 0.9995);
  assert.ok(Number.isNaN(rows[0][1]));
  assert.equal(rows[1][0], -1.5e-7);
  assert.equal(rows[1][1], 3.4028235e38);
  assert.ok(rows.every((row) => row instanceof Float64Array));
  assert.equal(core.toRows("1 2 3", 2), null); // not T² numbers
  assert.equal(core.toRows(["1", "2", "3", "4"], 2), null); // not a string
});

test("parseValue checks the value and falls back where it may", () => {
  const parsed = core.parseValue({
    tokens: ["a", "␣b"],
    scores: "1 0 0 1",
    weights: "0.7310586 0.26894143 0.26894143 0.7310586",
    tau: "2",
    view: "scores",
    caption: "shuffled",
  });
  assert.equal(parsed.count, 2);
  assert.deepEqual(parsed.tokens, ["a", "␣b"]);
  assert.deepEqual(Array.from(parsed.scores[1]), [0, 1]);
  assert.equal(parsed.serverWeights[0][1], 0.26894143);
  assert.equal(parsed.serverTau, 2);
  assert.equal(parsed.view, "scores");
  assert.equal(parsed.caption, "shuffled");
  const plain = core.parseValue({ tokens: [7], scores: "5", weights: null, tau: -1, view: "<b>", caption: 3 });
  assert.deepEqual(plain.tokens, ["7"]);
  assert.equal(plain.serverWeights, null);
  assert.equal(plain.serverTau, 1); // not a valid τ: 1
  assert.equal(plain.view, "weights");
  assert.equal(plain.caption, "");
  for (const value of ["", null, {}, { tokens: [] }, { tokens: ["a"], scores: "1 2" }]) {
    assert.equal(core.parseValue(value), null, JSON.stringify(value));
  }
});

// --- digits ------------------------------------------------------------------------------------------------

test("the book's example keeps at least the book's 4 decimals, and each is true", () => {
  const delta = core.scoreError(BOOK_SCORES);
  close(delta, 2 ** -20 * 1.495, 1e-12, "δ from the largest score, ω_22 = 1.4950");
  assert.equal(core.formatScore(BOOK_SCORES[1][2], delta), "1.47540"); // the book prints 1.4754
  assert.equal(core.formatScore(BOOK_SCORES[0][0], delta), "0.99950"); // and 0.9995
  const [row] = core.softmaxRows([BOOK_SCORES[1]], 1);
  const shown = core.formatWeight(row[2], delta, 1);
  assert.equal(shown, "0.23327"); // the book prints 0.2333; in float64 α_23 = 0.2332704...
  close(Number(shown), row[2], 1e-5, "within one unit of the last digit");
});

test("a score of 763.86981 at d = 768 prints 763.87, not the float32 noise 763.8699", () => {
  // A 40-token run at d = 768: the largest score (a diagonal one) near 846; float32 errors up to ~3e-4
  const delta = core.SCORE_ERROR * 846.1;
  assert.equal(core.formatScore(763.8699, delta), "763.87");
  assert.equal(core.formatScore(763.86981, delta), "763.87");
  assert.equal(core.formatScore(-12.3456, delta), "-12.35"); // one unit for the whole matrix
  assert.equal(core.formatScore(0.0123, delta), "0.01"); // a small score is only as exact as the large ones
});

test("weights: the digits follow the scores' error, at most 7 significant, exponent form below 1e-4", () => {
  const delta = core.SCORE_ERROR * 846.1; // |Δα| ≤ 2 δ α (1 − α) / τ
  assert.equal(core.formatWeight(0.5, delta, 1), "0.500");
  assert.equal(core.formatWeight(0.5, delta, 0.05), "0.5"); // a low temperature magnifies the scores' error
  assert.equal(core.formatWeight(1, delta, 1), "1.000000"); // exact to 7 digits, no more than float32 carries
  assert.equal(core.formatWeight(3.2e-7, delta, 1), "3.2e-7");
  assert.equal(core.formatWeight(1.3e-320, delta, 1), "1.30e-320"); // subnormal: fewer digits
  assert.equal(core.formatWeight(0, delta, 1), "0"); // a float64 underflow
  const small = core.SCORE_ERROR * 1.5;
  assert.equal(core.formatWeight(5.1242e-5, small, 1), "5.1242e-5");
  assert.equal(core.formatWeight(NaN, small, 1), "not a number");
});

test("formatToUnit: plain decimals, exponents for the very small and the very large", () => {
  assert.equal(core.formatToUnit(0.23331, -5), "0.23331");
  assert.equal(core.formatToUnit(1234.5, 1), "1230");
  assert.equal(core.formatToUnit(4, 1), "0"); // below its own error
  assert.equal(core.formatToUnit(1.5e20, 14), "1.500000e20");
  assert.equal(core.formatToUnit(0, -4), "0.0000");
  assert.equal(core.unitExponent(0, 0), -4); // an exact zero: the book's 4 decimals
  assert.equal(core.unitExponent(763.87, 1e-9), -4); // at most 7 significant digits
});

test("every printed number is within one unit of its last digit of the value it stands for", () => {
  // Perturb scores by up to their error bound δ, as float32 rounding does, and compare the printed weights and
  // scores with the exact (float64) values of the unperturbed ones.
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  for (const [scale, tau] of [
    [1.5, 1],
    [90, 1],
    [846, 1],
    [846, 0.05],
    [30, 3],
  ]) {
    const exact = Array.from({ length: 12 }, () => Array.from({ length: 12 }, () => random() * scale));
    const delta = core.scoreError(exact);
    const noisy = exact.map((row) => row.map((v) => v + random() * delta));
    const trueWeights = core.softmaxRows(exact, tau);
    const noisyWeights = core.softmaxRows(noisy, tau);
    noisy.forEach((row, i) =>
      row.forEach((v, j) => {
        for (const [text, truth] of [
          [core.formatScore(v, delta), exact[i][j]],
          [core.formatWeight(noisyWeights[i][j], delta, tau), trueWeights[i][j]],
        ]) {
          const [mantissa, power = "0"] = text.split("e");
          const last = 10 ** (Number(power) - (mantissa.split(".")[1] ?? "").length); // the last digit's unit
          assert.ok(Math.abs(Number(text) - truth) <= last, `${text} vs ${truth} (unit ${last})`);
        }
      }),
    );
  }
});

test("cellText: 2 decimals, fewer when the error needs it", () => {
  assert.equal(core.cellText(0.23331, 1e-6), "0.23");
  assert.equal(core.cellText(763.8699, core.SCORE_ERROR * 846), "763.87");
  assert.equal(core.cellText(12345.678, 0.04), "12345.7");
  assert.equal(core.cellText(NaN, 0), "–");
});

test("tauText and cellAtFraction", () => {
  assert.equal(core.tauText(Math.sqrt(3)), "1.732");
  assert.equal(core.tauText(0.05), "0.05");
  assert.deepEqual(core.cellAtFraction(0.999, 0, 40), [0, 39]);
  assert.deepEqual(core.cellAtFraction(0.5, 0.5, 40), [20, 20]);
  assert.equal(core.cellAtFraction(1, 0.5, 40), null);
  assert.equal(core.cellAtFraction(-0.01, 0.5, 40), null);
});

test("the browser gets the core and the view as one script, the core first", () => {
  const python = readFileSync(new URL("./matrix.py", import.meta.url), "utf8");
  assert.match(python, /\("matrix-core\.js", "matrix\.js"\)/);
  const view = readFileSync(new URL("./matrix.js", import.meta.url), "utf8");
  for (const name of ["softmaxRows", "colourIndex", "parseValue", "formatScore", "formatWeight"]) {
    assert.ok(view.includes(name), `matrix.js uses ${name}`);
    assert.ok(!view.includes(`function ${name}(`), `${name} is defined only in matrix-core.js`);
  }
});
