// The lecture's question (web/lecture.py's question_group): a radio group built from props.value,
// {prompt, choices: [text, ...]} (anything else: no question). A fieldset named by its legend, with native radios
// that share one name, so Tab reaches the group and the arrow keys move between its choices. Choosing one fires
// select with {index, value} once the choice has rested; the server answers under it. Texts are set with
// textContent only: never markup.
"use strict";

const root = element.querySelector("[data-lecture-question]");
let built = 0;

function show(value) {
  built += 1;
  const ok = value && typeof value === "object" && typeof value.prompt === "string" && Array.isArray(value.choices);
  root.replaceChildren();
  root.hidden = !ok;
  if (!ok) return;
  const name = `${element.id || "question"}-${built}`;
  const fieldset = document.createElement("fieldset");
  const legend = document.createElement("legend");
  legend.textContent = value.prompt;
  fieldset.append(legend);
  value.choices.forEach((text, index) => {
    const label = document.createElement("label");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = name;
    radio.value = String(index);
    label.append(radio, " ", String(text));
    fieldset.append(label);
  });
  root.append(fieldset);
}

// Arrow keys move through the choices faster than an answer comes back, and Gradio drops a select fired while the
// last one is still pending: the choice is sent once the radios have rested for CHOICE_SETTLE_MS.
const CHOICE_SETTLE_MS = 150;
let settle = 0;
root.addEventListener("change", () => {
  clearTimeout(settle);
  settle = setTimeout(() => {
    const radio = root.querySelector("input[type=radio]:checked");
    if (!radio) return;
    trigger("select", { index: Number(radio.value), value: radio.parentElement.textContent.trim(), selected: true });
  }, CHOICE_SETTLE_MS);
});

show(props.value);
watch("value", () => show(props.value));
