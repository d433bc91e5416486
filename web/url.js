// Keeps the address bar in step with the settings, so it is always a shareable link.
// Inputs: the text, the embedding source ("random" or "table"), the table, dim, seed, τ, the raw-scores switch,
// and the book's table (a hidden component), so "table=book" names the book's example without copying it.
(text, source, table, dim, seed, tau, raw, bookTable) => {
    const params = new URLSearchParams();
    params.set("text", text ?? "");
    params.set("dim", dim);
    params.set("seed", seed);
    params.set("tau", tau);
    params.set("view", raw ? "scores" : "weights");
    if (source === "table" && table === bookTable) params.set("table", "book");
    history.replaceState(null, "", "?" + params.toString());
}
