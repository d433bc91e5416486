// Whatever scrolls sideways gets a tab stop, a role and a name, so that a keyboard can scroll it and a screen
// reader can say what it is; it loses them again once it fits. On a phone, wide tables (the views put each in a
// .scroll-x box), figures, formulas and code can scroll; on a wide screen they usually fit, and add no tab stop.
// Gradio's gr.Radio gives each of its inputs a name of its own, so every option is a tab stop of its own and the
// arrow keys do not move the choice: the inputs of one group get one name (the first's), and the browser then
// makes the group one tab stop whose arrow keys choose, as for any radio group.
// Gradio's toast header is a role=button holding the toast's Close button (axe: nested-interactive, serious): the
// header loses its role and tab stop. A click on it still folds the toast; Close stays a button of its own, and the
// message is read from the toast's live region.
// Run once by Gradio when the page loads (app.launch's js).
() => {
  const SCROLLERS = [
    [".prose .scroll-x", "Table"],
    [".fig-scroll", "Figure"],
    [".prose .katex-display", "Formula"],
    [".prose pre", "Code"],
  ];
  const watched = new WeakSet();

  let made = 0; // numbers the boxes, so that no two regions have the same name

  function mark(box, scrolls) {
    const ours = box.dataset.scrollStop === "1";
    if (scrolls && !ours && !box.hasAttribute("tabindex")) {
      made += 1;
      box.dataset.scrollStop = "1";
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      const name = box.dataset.label || `${box.dataset.scrollWhat} ${made}`;
      box.setAttribute("aria-label", `${name} (scrolls sideways)`);
    } else if (!scrolls && ours) {
      delete box.dataset.scrollStop;
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }

  // Every box is read first, then marked: a write between two reads would force the browser to lay the page out
  // again for the second read, once per box.
  function measure(boxes) {
    const measured = boxes.map((box) => [box, box.scrollWidth > box.clientWidth + 1]);
    measured.forEach(([box, scrolls]) => mark(box, scrolls));
  }

  const resized = new ResizeObserver((entries) => measure(entries.map((entry) => entry.target)));

  function groupRadios() {
    for (const group of document.querySelectorAll("fieldset")) {
      const radios = Array.from(group.querySelectorAll("input[type=radio]"));
      if (radios.some((radio) => radio.closest("fieldset") !== group)) continue; // not one flat group
      const shared = radios[0]?.name;
      if (shared && radios.some((radio) => radio.name !== shared)) radios.forEach((radio) => { radio.name = shared; });
    }
  }

  function unnestToastButtons() {
    for (const header of document.querySelectorAll(".toast-header[role=button]")) {
      if (header.querySelector("button")) {
        header.removeAttribute("role");
        header.removeAttribute("tabindex");
      }
    }
  }

  // After the page changes: new boxes are watched (the observer also fires when a closed accordion opens), and
  // every box is measured again, since new content can overflow a box whose own size stays the same.
  function scan() {
    const boxes = [];
    for (const [selector, what] of SCROLLERS) {
      for (const box of document.querySelectorAll(selector)) {
        if (!watched.has(box)) {
          watched.add(box);
          box.dataset.scrollWhat = what;
          resized.observe(box);
        }
        boxes.push(box);
      }
    }
    measure(boxes);
  }

  let queued = false;
  const schedule = () => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        groupRadios();
        unnestToastButtons();
        scan();
      });
    }
  };
  new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
  addEventListener("resize", schedule);
  schedule();
}
