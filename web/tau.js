// The temperature control (web/tau.py): a logarithmic track, a number box and presets, drawn in the browser.
//
// This is the DOM half of the gr.HTML component's js_on_load; web/tau-core.js (the arithmetic) comes first in the
// same script. Gradio runs it once per instance with `element`, `props`, `trigger` and `watch` (see web/matrix.js).
// props.value is τ, a number. A learner's change sets props.value and fires `input` (the page redraws the matrix
// in the browser); a value sent by the server (a link, "τ = √d", the book's example) only moves the controls.
// It reads and writes nothing outside `element`.

const PRESETS = [0.5, 1, 2, 5];
const root = element.querySelector("[data-tau-control]");
// ids for aria-labelledby, unique on the page: from the component's elem_id
const uid = (element.closest("[id]")?.id || "tau") + "-control";

function make(tag, attributes, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

const label = make("span", { class: "tau-label", id: uid + "-label" }, "Temperature τ");
const formula = make("span", { class: "tau-formula" }, " in softmax(ω / τ)");
const head = make("div", { class: "tau-head" });
head.append(label, formula);
const track = make("input", {
  type: "range", min: "0", max: String(TAU_STEPS), step: "1", class: "tau-track",
  "aria-labelledby": uid + "-label", "aria-describedby": uid + "-info",
});
const box = make("input", {
  type: "text", inputmode: "decimal", class: "tau-box", "aria-label": "τ, any value from 0.05 to 50",
  autocomplete: "off", spellcheck: "false",
});
const row = make("div", { class: "tau-row" });
row.append(track, box);
const presets = make("div", { class: "tau-presets", role: "group", "aria-label": "Set τ to" });
for (const preset of PRESETS) {
  presets.append(make("button", { type: "button", class: "tau-preset", "data-tau": String(preset) }, "τ = " + preset));
}
const problem = make("p", { class: "tau-problem", role: "alert", id: uid + "-problem" });
problem.hidden = true;
const info = make("p", { class: "tau-info", id: uid + "-info" },
  "Logarithmic: each arrow key multiplies τ by 1.047, PageUp by 1.58. 1 is the book's case; √d is what scaled " +
  "dot-product attention will use.");
root.replaceChildren(head, row, presets, problem, info);

function current() {
  const tau = Number(props.value);
  return Number.isFinite(tau) && tau > 0 ? tau : 1;
}

// Show τ in the controls without firing anything.
function show(tau) {
  track.value = String(positionOf(tau));
  track.setAttribute("aria-valuetext", "τ = " + tau);
  if (document.activeElement !== box) box.value = String(tau);
  root.dataset.tau = String(tau);
  for (const button of presets.children) button.setAttribute("aria-pressed", String(Number(button.dataset.tau) === tau));
}

// A learner's τ: shown, kept as the component's value, and announced to the page.
function choose(tau) {
  problem.hidden = true;
  box.removeAttribute("aria-invalid");
  box.removeAttribute("aria-describedby");
  show(tau);
  if (tau === current()) return;
  props.value = tau;
  trigger("input", { tau });
}

track.addEventListener("input", () => choose(tauAt(Number(track.value))));
track.addEventListener("keydown", (event) => {
  const next = stepKey(event.key, Number(track.value));
  if (next === null) return;
  event.preventDefault(); // the same factor per key in every browser
  track.value = String(next);
  choose(tauAt(next));
});

function typed() {
  const tau = parseTau(box.value);
  if (tau === null) {
    problem.textContent = "τ must be a number from 0.05 to 50, such as 0.5 or 2. It stays " + current() + ".";
    problem.hidden = false;
    box.setAttribute("aria-invalid", "true");
    box.setAttribute("aria-describedby", uid + "-problem");
    return;
  }
  choose(tau);
}
box.addEventListener("change", typed);
box.addEventListener("keydown", (event) => {
  if (event.key === "Enter") typed();
});
presets.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-tau]");
  if (button) choose(Number(button.dataset.tau));
});

show(current());
watch("value", () => show(current()));
