// Whatever scrolls sideways gets a tab stop, a role and a name, so that a keyboard can scroll it and a screen
// reader can say what it is; it loses them again once it fits. On a phone, wide tables (the views put each in a
// .scroll-x box), figures, formulas and code can scroll; on a wide screen they usually fit, and add no tab stop.
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

  function update(box) {
    const scrolls = box.scrollWidth > box.clientWidth + 1;
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

  const resized = new ResizeObserver((entries) => entries.forEach((entry) => update(entry.target)));

  function scan() {
    for (const [selector, what] of SCROLLERS) {
      for (const box of document.querySelectorAll(selector)) {
        if (!watched.has(box)) {
          watched.add(box);
          box.dataset.scrollWhat = what;
          resized.observe(box); // also fires when a closed accordion opens, and at once
        }
        update(box);
      }
    }
  }

  let queued = false;
  const schedule = () => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        scan();
      });
    }
  };
  new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
  addEventListener("resize", schedule);
  schedule();
}
