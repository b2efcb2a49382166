// The page's detail views: the risk matrix legend, one pupil's panel, and what changed since the last
// scoring. app.js calls them through window.ER (common.js).
"use strict";

(() => {
  const { state, $, el, blank, count, percent, yearLabel, schoolLabel, dateLabel, dateTimeLabel, precisionText } = window.ER;

  // --- the legend: likelihood bands x need levels -> RAG and response (GET /risk-matrix) ---------
  async function loadMatrix() {
    const answer = await window.ER.call("/risk-matrix");
    const body = $("legend-body");
    if (!answer.ok || !answer.body) {
      body.replaceChildren(el("p", "The risk matrix could not be loaded: " +
        window.ER.errorMessage(answer.status, answer.body)));
      return;
    }
    state.matrix = answer.body;
    drawLegend(answer.body);
  }

  function bandOf(label) {
    const bands = (state.matrix && state.matrix.likelihood_bands) || [];
    return bands.find((b) => b.label === label || b.key === label || b.code === label) || null;
  }

  function responseText(key) {
    const responses = (state.matrix && state.matrix.responses) || {};
    return responses[key] || "";
  }

  function drawLegend(matrix) {
    const needs = matrix.need_levels || [];
    const cells = new Map((matrix.cells || []).map((c) => [`${c.likelihood_band}|${c.need_level}`, c]));
    const table = el("table");
    table.id = "legend-table";
    table.append(el("caption", "Each pupil is placed by the likelihood of suspension or exclusion (rows) " +
      "and their level of need (columns); the cell gives the rating and the suggested response."));
    const head = el("tr");
    head.append(el("th", "Likelihood band"));
    head.firstChild.scope = "col";
    for (const n of needs) {
      const th = el("th", `Need ${n.level}: ${n.label}`);
      th.scope = "col";
      if (n.definition) th.title = n.definition;
      head.append(th);
    }
    table.append(el("thead"));
    table.tHead.append(head);
    const tbody = el("tbody");
    for (const band of matrix.likelihood_bands || []) {
      const tr = el("tr");
      const th = el("th");
      th.scope = "row";
      th.append(el("strong", `${band.label} (${band.code})`));
      const floor = typeof band.min_probability === "number" && band.min_probability > 0
        ? `probability ${percent(band.min_probability)} or more` : "below the bands above";
      th.append(el("span", floor, "hint block"));
      const precision = precisionText(band.precision);
      if (precision) th.append(el("span", precision, "precision block"));
      tr.append(th);
      for (const n of needs) {
        const cell = cells.get(`${band.label}|${n.level}`) || cells.get(`${band.key}|${n.level}`);
        const td = el("td", "", cell ? `rag-cell rag-${cell.rag}` : "");
        if (cell) {
          td.append(el("strong", cell.rag.toUpperCase()), el("span", ` ${cell.matrix_cell}`, "hint"),
            el("span", cell.response, "block"));
        }
        tr.append(td);
      }
      tbody.append(tr);
    }
    table.append(tbody);
    const responses = el("dl", null, "responses");
    for (const [key, text] of Object.entries(matrix.responses || {})) {
      responses.append(el("dt", key), el("dd", text));
    }
    const need = el("dl", null, "responses");
    for (const n of needs) need.append(el("dt", `Need ${n.level}: ${n.label}`), el("dd", n.definition || ""));
    const version = el("p", `Risk matrix version ${blank(matrix.version)}; bands cut at the team's capacity of ` +
      `${percent(matrix.capacity, 0)}; thresholds: ${blank(matrix.thresholds_source)}.`, "hint");
    $("legend-body").replaceChildren(table, el("h3", "Responses"), responses, el("h3", "Need levels"), need,
      version);
  }

  // --- one pupil's panel --------------------------------------------------------------------------
  let opener = null;

  function summaryRow(list, term, value) {
    if (value === "" || value === null || value === undefined) return;
    list.append(el("dt", term), el("dd", value));
  }

  // A factor the scores put under context (year group, school, home area) is marked so: it is not
  // about the child, and is shown apart from the child's own factors in the ranked list too.
  function factorList(list, factors, emptyText, context) {
    list.replaceChildren();
    if (!factors || !factors.length) {
      list.append(el("li", emptyText));
      return;
    }
    for (const f of factors) {
      const li = el("li");
      li.append(el("strong", f.label), document.createTextNode(`: ${f.value}`));
      li.append(el("span", ` (${f.contribution > 0 ? "+" : ""}${Number(f.contribution).toFixed(2)})`, "hint"));
      if (context && f.value && context.includes(f.value)) li.append(el("span", " context, not about the child", "tag"));
      list.append(li);
    }
  }

  function openPanel(score, row) {
    opener = row;
    const dialog = $("pupil-panel");
    $("panel-heading").textContent = `Pupil ${score.upn}`;
    const list = $("panel-summary");
    list.replaceChildren();
    summaryRow(list, "School", schoolLabel(score));
    summaryRow(list, "Year group", yearLabel(score.nc_year));
    summaryRow(list, "Probability", percent(score.probability));
    summaryRow(list, "Likelihood band", blank(score.likelihood_band));
    summaryRow(list, "Need level", `${blank(score.need_level)}${score.need_label ? `: ${score.need_label}` : ""}`);
    summaryRow(list, "Rating", `${blank(score.rag).toUpperCase()} (${blank(score.matrix_cell)})`);
    const tier = blank(score.response);
    summaryRow(list, "Suggested response", responseText(tier) || tier);
    const band = bandOf(score.likelihood_band);
    const precision = precisionText(band && band.precision) ||
      precisionText(score.band_precision, score.band_precision_ci);
    summaryRow(list, "How sure (band precision)", precision);
    // never blank: a pupil rated on context alone is told so (the Context row below gives it)
    const own = blank(score.reasons).trim() || (blank(score.context).trim()
      ? "No factor of the child's own raises the score; see the context below."
      : "No factor of the child's own raises the score.");
    summaryRow(list, "Reasons", own);
    summaryRow(list, "Lowering the risk", blank(score.reasons_lowering));
    summaryRow(list, "Context (not about the child)", blank(score.context));
    $("panel-raising").replaceChildren(el("li", "Loading…"));
    $("panel-lowering").replaceChildren();
    $("panel-factors-status").textContent = "Loading this pupil's factors…";
    $("panel-earlier").replaceChildren(el("p", "Loading earlier scores…"));
    if (!dialog.open) dialog.showModal();
    $("panel-heading").focus();
    loadFactors(score.upn, blank(score.context));
    loadEarlier(score.upn);
  }

  const BUSY_RETRIES = 3;
  let factorsTurn = 0; // each opening of the panel: a wait from an earlier one stops

  async function loadFactors(upn, context) {
    const form = new FormData();
    form.append("file", state.file, state.file.name);
    form.append("upn", upn); // in the body: a UPN never goes in a URL
    const turn = ++factorsTurn;
    // the panel may move on, close, or open again meanwhile: this opening's answer is then no one's
    const shown = () => turn === factorsTurn && $("pupil-panel").open &&
      $("panel-heading").textContent === `Pupil ${upn}`;
    let answer;
    for (let attempt = 0; ; attempt += 1) {
      answer = await window.ER.call("/explain/file?n=5", { method: "POST", body: form });
      if (!shown()) return;
      if (answer.status !== 503 || attempt >= BUSY_RETRIES) break;
      // every job slot busy (the service scores a few files at once) or starting up: tried again after
      // the wait it gives, said meanwhile, where the panel gave up at once (a load tester's find)
      const wait = Math.min(Number(answer.headers && answer.headers.get("Retry-After")) || 2, 10);
      $("panel-factors-status").textContent = `The service is busy; trying again in ${wait} s.`;
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      if (!shown()) return;
    }
    if (!answer.ok || !answer.body || !answer.body.pupils || !answer.body.pupils.length) {
      $("panel-raising").replaceChildren();
      $("panel-factors-status").textContent =
        "This pupil's factors could not be loaded: " + window.ER.errorMessage(answer.status, answer.body);
      return;
    }
    const pupil = answer.body.pupils[0];
    factorList($("panel-raising"), pupil.raising, "No factor raises this pupil's risk.", context);
    factorList($("panel-lowering"), pupil.lowering, "No factor lowers this pupil's risk.", context);
    // in words: "(log-odds)" alone meant nothing to an officer, and read like a percentage
    $("panel-factors-status").textContent = "Factors loaded. " + (pupil.scale === "probability"
      ? "The number beside each factor is how much it moves this pupil's probability (0.05 is 5 percentage points)."
      : "The number beside each factor is how strongly it moves the model's score, on the model's own scale " +
        "(log-odds), not a percentage: the larger, the stronger.");
  }

  async function loadEarlier(upn) {
    // Earlier scores are those of runs recorded before this list's own, which the service selects
    // (`before`): a later run, of another upload, is not an earlier score of this list, however many
    // there are. The run id goes in the query (it names no pupil); the UPN in the body.
    const current = state.result && state.result.run ? state.result.run.id : null;
    const query = current ? `?before=${encodeURIComponent(current)}` : "";
    const answer = await window.ER.call(`/runs/earlier${query}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ upn }),
    });
    if ($("panel-heading").textContent !== `Pupil ${upn}`) return;
    const box = $("panel-earlier");
    if (!answer.ok || !answer.body) {
      box.replaceChildren(el("p", "Earlier scores could not be loaded: " +
        window.ER.errorMessage(answer.status, answer.body)));
      return;
    }
    const scores = answer.body.scores || [];
    if (!scores.length) {
      box.replaceChildren(el("p", "No earlier scoring of this pupil is recorded."));
      return;
    }
    const table = el("table");
    table.id = "earlier-table";
    table.append(el("caption", "This pupil's scores in scoring runs before this list's, latest first; " +
      "each run by the time it was recorded and its id."));
    const head = el("tr");
    for (const h of ["Scored on", "Run", "Census", "Probability", "Likelihood", "RAG", "Model"]) {
      const th = el("th", h);
      th.scope = "col";
      head.append(th);
    }
    table.append(el("thead"), el("tbody"));
    table.tHead.append(head);
    for (const s of scores) {
      const tr = el("tr");
      // the term as well as the year: a spring and an autumn scoring of one year told apart
      for (const v of [dateTimeLabel(s.recorded_at), blank(s.run_id).slice(0, 8),
        s.year ? `${s.year}${s.census ? ` ${s.census}` : ""}` : blank(s.year),
        percent(s.probability), blank(s.likelihood_band), blank(s.rag).toUpperCase(), blank(s.model_version)]) {
        tr.append(el("td", v));
      }
      table.tBodies[0].append(tr);
    }
    box.replaceChildren(table);
  }

  function closePanel() {
    const dialog = $("pupil-panel");
    if (dialog.open) dialog.close();
  }

  // A cleared list (a new upload, a failed one, sign-out) leaves no pupil in the page, hidden or not:
  // the panel is closed and emptied, and the changes view too.
  function forgetPupils() {
    closePanel();
    $("panel-heading").textContent = "Pupil"; // a factors or earlier-scores answer still coming is dropped
    for (const id of ["panel-summary", "panel-raising", "panel-lowering", "panel-earlier"]) $(id).replaceChildren();
    $("panel-factors-status").textContent = "";
    showChanges(null);
    $("changes-table").tBodies[0].replaceChildren();
  }

  // --- what changed since the last scoring ----------------------------------------------------------
  // The kinds of change in the answer's order (models/change_kinds.py CHANGE_LABELS says the same); each
  // pupil's row says their change in words (its `label`: "rating up: green to amber ...").
  const CHANGE_LABELS = {
    new_red: "new red",
    rating_up: "rating up within a band",
    rating_down: "rating down within a band",
    need_up: "need level up within a rating",
    need_down: "need level down within a rating",
    moved_up: "moved up a band or more",
    moved_down: "moved down a band or more",
    no_longer_on_roll: "no longer on roll",
    new_on_roll: "new on roll",
  };
  const CHANGES_PAGE = 100;
  let changes = null;
  let changesPage = 0;
  let changesPager = null;

  function showChanges(body) {
    changes = body && body.changes;
    const section = $("changes-section");
    if (!changes) {
      section.hidden = true;
      return "";
    }
    const since = changes.since || {};
    const counts = changes.counts || {};
    const newRed = counts.new_red || 0;
    const scoring = since.census ? `the ${since.census} scoring` : "the scoring";
    // which run, as the workbook names it (run 1a2b3c4d): several scorings of one day are told apart
    const about = [since.id ? `run ${String(since.id).slice(0, 8)}` : "",
      since.year ? `census ${since.year}` + (since.model_version ? `, model version ${since.model_version}` : "") : ""]
      .filter(Boolean).join("; ");
    $("changes-summary").textContent =
      `${count(newRed)} new red since ${scoring} of ${dateLabel(since.recorded_at)}` +
      (about ? ` (${about})` : "") + ".";
    const list = $("changes-counts");
    list.replaceChildren();
    const select = $("changes-filter");
    select.replaceChildren(select.options[0]);
    for (const [key, label] of Object.entries(CHANGE_LABELS)) {
      list.append(el("li", `${count(counts[key] || 0)} ${label}`));
      const option = el("option", label);
      option.value = key;
      select.append(option);
    }
    select.value = "";
    // What the counts do not say on their own (schools not compared, a new model), in the CLI's words.
    const notes = $("changes-notes");
    notes.replaceChildren(...(changes.notes || []).map((note) => el("li", note)));
    notes.hidden = notes.children.length === 0;
    // Schools whose earlier pupils are not listed as leavers: the upload is not that school's census.
    // One line per reason, naming its schools, as the workbook says them (not one line per school).
    const notListed = $("changes-not-listed");
    notListed.replaceChildren(...(changes.leavers_not_listed_notes || []).map((note) => el("li", note)));
    notListed.hidden = notListed.children.length === 0;
    section.hidden = false;
    changesPage = 0;
    drawChanges();
    return $("changes-summary").textContent;
  }

  function drawChanges() {
    if (!changes) return;
    const kind = $("changes-filter").value;
    const pupils = (changes.pupils || []).filter((p) => !kind || p.change === kind);
    const pages = Math.max(1, Math.ceil(pupils.length / CHANGES_PAGE));
    changesPage = Math.min(changesPage, pages - 1);
    const start = changesPage * CHANGES_PAGE;
    const names = new Map(((state.result && state.result.scores) || []).map((s) => [s.school_urn, s.school_name]));
    const rows = pupils.slice(start, start + CHANGES_PAGE).map((p) => {
      const tr = el("tr", null, p.after_rag ? `rag-${p.after_rag}` : "");
      const school = schoolLabel({ school_urn: p.school_urn, school_name: names.get(p.school_urn) });
      const what = p.label || CHANGE_LABELS[p.change] || blank(p.change);
      for (const v of [blank(p.upn), school, what, blank(p.before_band), blank(p.after_band),
        blank(p.before_rag).toUpperCase(), blank(p.after_rag).toUpperCase(), blank(p.before_need),
        blank(p.after_need)]) {
        tr.append(el("td", v));
      }
      return tr;
    });
    $("changes-table").tBodies[0].replaceChildren(...rows);
    $("changes-count").textContent = pupils.length
      ? `Showing ${count(start + 1)}–${count(start + rows.length)} of ${count(pupils.length)} changed pupils.`
      : "No pupil has this change.";
    changesPager.update(changesPage, pages);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const dialog = $("pupil-panel");
    $("panel-close").addEventListener("click", closePanel);
    // Escape closes a modal <dialog> itself; either way, focus goes back to the row's button that opened it.
    dialog.addEventListener("close", () => {
      if (opener && opener.isConnected) opener.focus();
      opener = null;
    });
    // A click on the backdrop (outside the panel's box) closes it too.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) closePanel();
    });
    changesPager = window.ER.pager($("changes-pager"), "changed pupils", (page) => {
      changesPage = page;
      drawChanges();
    });
    $("changes-filter").addEventListener("change", () => {
      changesPage = 0;
      drawChanges();
    });
  });

  Object.assign(window.ER, { loadMatrix, openPanel, closePanel, showChanges, forgetPupils });
})();
