// The lecture's browser side (web/lecture.py): after the server has sent a step, this runs with the step's signal,
// a JSON string {step, total, title, highlight, view, focus}. Once the step is on the page (Gradio renders it after
// this starts, and a link's first step also has to open the tab), it
//   - writes ?step=k into the address bar (keeping the run's own settings), so the link opens this step;
//   - asks the lecture's live matrix to highlight what the step is about, in the step's view (scores or weights);
//   - announces "Step k of N: title" in a polite live region, and, after Back or Next, moves the focus to the
//     step's heading.
// It reads and writes only inside #lecture, and the address bar.
(signal) => {
  let step;
  try {
    step = JSON.parse(signal || "null");
  } catch {
    return;
  }
  if (!step) return;
  const wanted = `Step ${step.step} of ${step.total}`;
  const started = performance.now();

  function apply() {
    const lecture = document.getElementById("lecture");
    const heading = lecture?.querySelector("#lecture-text h2");
    const matrix = lecture?.querySelector("#lecture-matrix [data-attention-matrix]")?.attentionMatrix;
    if (!heading || !heading.textContent.startsWith(wanted) || !matrix) {
      if (performance.now() - started < 5000) requestAnimationFrame(apply);
      return;
    }
    lecture.dataset.step = String(step.step);
    const params = new URLSearchParams(location.search);
    params.set("step", String(step.step));
    history.replaceState(null, "", "?" + params.toString());

    matrix.setView(step.view);
    matrix.highlight(step.highlight);

    let live = lecture.querySelector(".lecture-live");
    if (!live) {
      live = document.createElement("p");
      live.className = "lecture-live";
      live.setAttribute("aria-live", "polite");
      live.setAttribute("aria-atomic", "true");
      lecture.append(live);
    }
    live.textContent = `${wanted}: ${step.title}`;
    lecture.querySelector("#lecture-answer")?.setAttribute("aria-live", "polite");

    if (step.focus) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
      heading.scrollIntoView({ block: "nearest" });
    }
  }
  apply();
}
