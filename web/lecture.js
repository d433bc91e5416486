// The lecture's browser side (web/lecture.py): after the server has sent a step, this runs with the step's signal,
// a JSON string {step, total, title, highlight, view, focus}. It
//   - writes ?step=k into the address bar (keeping the run's own settings), so the link opens this step;
//   - asks the lecture's live matrix to highlight what the step is about, in the step's view (scores or weights);
//   - announces "Step k of N: title" in a polite live region, and, after Back or Next, moves the focus to the
//     step's heading once it is on the page.
// It reads and writes only inside #lecture, and the address bar.
(signal) => {
  let step;
  try {
    step = JSON.parse(signal || "null");
  } catch {
    return;
  }
  const lecture = document.getElementById("lecture");
  if (!step || !lecture) return;
  lecture.dataset.step = String(step.step);
  const params = new URLSearchParams(location.search);
  params.set("step", String(step.step));
  history.replaceState(null, "", "?" + params.toString());

  const matrix = lecture.querySelector("#lecture-matrix [data-attention-matrix]")?.attentionMatrix;
  matrix?.setView(step.view);
  matrix?.highlight(step.highlight);

  let live = lecture.querySelector(".lecture-live");
  if (!live) {
    live = document.createElement("p");
    live.className = "lecture-live";
    live.setAttribute("aria-live", "polite");
    live.setAttribute("aria-atomic", "true");
    lecture.append(live);
  }
  live.textContent = `Step ${step.step} of ${step.total}: ${step.title}`;
  lecture.querySelector("#lecture-answer")?.setAttribute("aria-live", "polite");

  if (!step.focus) return;
  // Gradio puts the new Markdown on the page after this runs: wait (at most 3 s) for the step's own heading.
  const wanted = `Step ${step.step} of ${step.total}`;
  const started = performance.now();
  const focusHeading = () => {
    const heading = lecture.querySelector("#lecture-text h2");
    if (heading && heading.textContent.startsWith(wanted)) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
      heading.scrollIntoView({ block: "nearest" });
    } else if (performance.now() - started < 3000) {
      requestAnimationFrame(focusHeading);
    }
  };
  focusHeading();
}
