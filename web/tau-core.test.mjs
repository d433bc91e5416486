// node --test web/: the temperature control's arithmetic (web/tau-core.js), as the browser runs it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tau = require("./tau-core.js");

test("the track is logarithmic from 0.1 to 10 with 1 in the middle", () => {
  assert.equal(tau.tauAt(0), 0.1);
  assert.equal(tau.tauAt(tau.TAU_STEPS / 2), 1);
  assert.equal(tau.tauAt(tau.TAU_STEPS), 10);
  assert.equal(tau.tauAt(-5), 0.1); // clamped
  assert.equal(tau.tauAt(1e9), 10);
});

test("every arrow step multiplies tau by the same factor, to the 3 digits shown", () => {
  const factor = 10 ** (2 / tau.TAU_STEPS); // 1.0471…
  for (let p = 0; p < tau.TAU_STEPS; p++) {
    const ratio = tau.tauAt(p + 1) / tau.tauAt(p);
    assert.ok(Math.abs(ratio - factor) < 0.006, `step ${p}: ${ratio}`); // 3 significant digits: ≤ 0.5 % off
  }
  assert.equal(tau.tauAt(51), 1.05);
  assert.equal(tau.tauAt(49), 0.955);
});

test("positions and values round-trip, and values off the track sit at its ends", () => {
  for (let p = 0; p <= tau.TAU_STEPS; p++) assert.equal(tau.positionOf(tau.tauAt(p)), p);
  assert.equal(tau.positionOf(0.05), 0);
  assert.equal(tau.positionOf(50), tau.TAU_STEPS);
  assert.equal(tau.positionOf(Math.sqrt(768)), tau.TAU_STEPS);
  assert.equal(tau.positionOf(Math.sqrt(3)), 62); // 10^(-1 + 62/50) = 1.738, the nearest to 1.732
});

test("keys: arrows by one step, PageUp/PageDown by a fifth of a decade, Home and End to the ends", () => {
  assert.equal(tau.stepKey("ArrowRight", 50), 51);
  assert.equal(tau.stepKey("ArrowDown", 50), 49);
  assert.equal(tau.stepKey("PageUp", 50), 60);
  assert.equal(tau.tauAt(60), 1.58);
  assert.equal(tau.stepKey("PageDown", 5), 0);
  assert.equal(tau.stepKey("Home", 50), 0);
  assert.equal(tau.stepKey("End", 50), tau.TAU_STEPS);
  assert.equal(tau.stepKey("a", 50), null);
});

test("a typed tau is any plain decimal the server accepts, and nothing else", () => {
  assert.equal(tau.parseTau("2"), 2);
  assert.equal(tau.parseTau(" 0.05 "), 0.05);
  assert.equal(tau.parseTau(".5"), 0.5);
  assert.equal(tau.parseTau("1e1"), 10);
  assert.equal(tau.parseTau("27.7128"), 27.7128);
  for (const bad of ["", "0", "0.04", "50.01", "-1", "1,5", "abc", "NaN", "Infinity", "٣", "1e400", "0x10"]) {
    assert.equal(tau.parseTau(bad), null, bad);
  }
});
