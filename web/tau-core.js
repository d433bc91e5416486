// The temperature control's arithmetic, apart from the DOM so that node's test runner can check it
// (web/tau-core.test.mjs). web/tau.py puts this file in front of web/tau.js in the component's one script.
//
// The slider is logarithmic: position p in 0..TAU_STEPS maps to τ = 10^(LOG_LOW + p · (LOG_HIGH − LOG_LOW) / TAU_STEPS),
// so every arrow key multiplies τ by the same factor (10^(2/100) ≈ 1.047) wherever it is, and the teaching range
// 0.1–10 takes the whole track, with τ = 1 in the middle. The number box takes any τ the server accepts.

"use strict";

const TAU_MIN = 0.05; // attention_core.limits.MIN_TEMPERATURE
const TAU_MAX = 50; // attention_core.limits.MAX_TEMPERATURE
const LOG_LOW = -1; // the track's ends: 0.1 …
const LOG_HIGH = 1; // … 10
const TAU_STEPS = 100; // arrow keys: 2/100 of a decade each
const PAGE_STEPS = 10; // PageUp/PageDown: a fifth of a decade (× 1.58)
const TAU_DIGITS = 3; // significant digits of a τ set by the track: what is shown is what is computed

// τ at a track position, rounded to TAU_DIGITS significant digits (position 50 is exactly 1).
function tauAt(position) {
  const p = Math.min(TAU_STEPS, Math.max(0, Math.round(position)));
  return roundTau(10 ** (LOG_LOW + (p * (LOG_HIGH - LOG_LOW)) / TAU_STEPS));
}

// The nearest track position for τ (τ outside 0.1–10 sits at an end of the track).
function positionOf(tau) {
  const x = ((Math.log10(tau) - LOG_LOW) / (LOG_HIGH - LOG_LOW)) * TAU_STEPS;
  return Math.min(TAU_STEPS, Math.max(0, Math.round(x)));
}

// τ with TAU_DIGITS significant digits, as a number (0.1047… → 0.105, 1.0471… → 1.05, 10 → 10).
function roundTau(tau) {
  return Number(tau.toPrecision(TAU_DIGITS));
}

// A typed τ: the number it names, or null when it is not a number in [TAU_MIN, TAU_MAX]. Like the server's check
// (attention_core.limits.read_number), only plain ASCII decimals: "1.5", "2", ".5", "1e-1"; not "1,5" or "٣".
function parseTau(text) {
  const trimmed = String(text).trim();
  if (!/^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return null;
  const tau = Number(trimmed);
  return Number.isFinite(tau) && tau >= TAU_MIN && tau <= TAU_MAX ? tau : null;
}

// The position a key moves to from `position`, or null for a key the track does not handle.
function stepKey(key, position) {
  const moves = {
    ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: PAGE_STEPS, PageDown: -PAGE_STEPS,
  };
  if (key === "Home") return 0;
  if (key === "End") return TAU_STEPS;
  if (!(key in moves)) return null;
  return Math.min(TAU_STEPS, Math.max(0, position + moves[key]));
}

if (typeof module !== "undefined") {
  module.exports = { TAU_MIN, TAU_MAX, TAU_STEPS, PAGE_STEPS, tauAt, positionOf, roundTau, parseTau, stepKey };
}
