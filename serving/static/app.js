// The inclusion officer's page: sign in with a key, upload a cohort, read the ranked list a page at a
// time, open a pupil, print a school's list, download the scores (CSV or workbook).
// The key lives only in this script's memory: never in storage, cookies or the URL.
"use strict";

(() => {
  const ER = window.ER;
  const { state, $, el, blank, count, percent, yearLabel, yearCode, schoolLabel, setStatus } = ER;
  const PRINT_LIMIT = 5000; // rows a printed list holds at most; the downloads always hold every pupil
  const LISTED_AT_MOST = 1000; // problems an answer lists at most (serving/scoring.py MAX_LISTED_PROBLEMS)

  let matching = []; // indexes into state.result.scores that pass the filters, in rank order
  let page = 0;
  let listPagers = [];

  function showErrors(title, problems) {
    const box = $("errors");
    box.replaceChildren();
    box.append(el("h3", title));
    if (problems && problems.length) {
      const list = el("ul");
      for (const p of problems.slice(0, 50)) {
        // the API's row counts the data rows (1 is the first row after the header), not the file's lines
        const where = [p.row ? `data row ${p.row} (counting from the first row after the header)` : null,
          p.field ? `column ${p.field}` : null]
          .filter(Boolean).join(", ");
        list.append(el("li", where ? `${where}: ${p.reason}` : p.reason));
      }
      box.append(list);
      // the service lists LISTED_AT_MOST problems: past it, the rest were never sent (its message and
      // warnings give how many there are); "…and 950 more" beside "1,276 row problems" did not add up
      if (problems.length >= LISTED_AT_MOST) {
        box.append(el("p", `…and ${count(problems.length - 50)} more listed, then the rest: the service ` +
          `lists the first ${count(LISTED_AT_MOST)} only.`));
      } else if (problems.length > 50) box.append(el("p", `…and ${count(problems.length - 50)} more.`));
    }
    box.hidden = false;
    box.focus();
  }

  function clearErrors() {
    $("errors").hidden = true;
    $("errors").replaceChildren();
    fileRefused(false);
  }

  // A refused upload marks the file field as a refused key marks the key's: invalid, described by the errors.
  function fileRefused(refused) {
    const input = $("cohort-file");
    for (const [name, value] of [["aria-invalid", "true"], ["aria-describedby", "errors"]]) {
      if (refused) input.setAttribute(name, value);
      else input.removeAttribute(name);
    }
  }

  // Sign-in problems and progress are said in the sign-in section: the upload section (#errors, #status)
  // is hidden until the key is accepted. The alert stays in the page, empty, so it is announced.
  function signInProblem(text) {
    $("signin-errors").replaceChildren(...(text ? [el("p", text)] : []));
    const key = $("api-key");
    key.setAttribute("aria-describedby", text ? "api-key-hint signin-errors" : "api-key-hint");
    if (text) key.setAttribute("aria-invalid", "true");
    else key.removeAttribute("aria-invalid");
  }

  function signInStatus(text) {
    $("signin-status").textContent = text;
  }

  function sentence(text) {
    return text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
  }

  function rows(n) {
    return n === 1 ? "1 row was" : `${count(n)} rows were`;
  }

  // --- sign in ----------------------------------------------------------------------------------
  async function signIn(event) {
    event.preventDefault();
    signInProblem("");
    const key = $("api-key").value.trim();
    if (!key) {
      signInStatus("");
      signInProblem("Enter your API key.");
      $("api-key").focus();
      return;
    }
    signInStatus("Checking the key…");
    ER.setKey(key);
    const answer = await ER.call("/model");
    if (!answer.ok) {
      ER.setKey(null);
      signInStatus("");
      signInProblem(answer.status === 0 ? "The service could not be reached."
        : ER.errorMessage(answer.status, answer.body));
      $("api-key").focus(); // to type the key again; the alert is announced and the field describes it
      return;
    }
    const body = answer.body;
    $("api-key").value = "";
    $("signin-section").hidden = true;
    $("upload-section").hidden = false;
    const period = ER.formatPeriod(body.training_period || {});
    $("model-summary").textContent =
      `Signed in. Model ${body.name} version ${body.version}` + (period ? ` (${period})` : "") + ".";
    $("model-checked").textContent = ER.checkedText(body.last_checked);
    showHistory(body.history);
    signInStatus("");
    setStatus("");
    $("cohort-file").focus();
    ER.loadMatrix();
  }

  // Which authority history census uploads are scored with; without one the service refuses them, and
  // the officer should know that before choosing a file.
  function showHistory(history) {
    const box = $("history-status");
    if (!history) {
      box.textContent = "";
      return;
    }
    if (history.state === "ready") {
      const rates = Object.entries(history.link_rates || {})
        .map(([source, rate]) => `${source.replace("_", " ")} ${(100 * rate).toFixed(1)}%`).join(", ");
      box.textContent = `Census uploads are scored with the linked history in ${history.extracts}` +
        ` (${count(history.pupils)} pupils` + (history.census_years ? `, census ${history.census_years}` : "") +
        (rates ? `; records linked: ${rates}` : "") + ").";
      box.className = "";
    } else {
      box.textContent = `Census uploads cannot be scored now. ${history.detail}`;
      box.className = "warning";
    }
  }

  // The list on screen is the last file scored, or none: cleared as a new upload starts (a failed one
  // must not leave the earlier file's list under its error) and at sign-out.
  function clearResults() {
    ER.newTurn(); // an upload or workbook still on its way when the list is cleared is not shown
    ER.forgetPupils();
    Object.assign(state, { result: null, file: null });
    matching = [];
    $("results-section").hidden = true;
    $("scores-table").tBodies[0].replaceChildren();
    $("print-table").tBodies[0].replaceChildren();
    $("print-notes").replaceChildren();
    $("filter-upn").value = ""; // a pupil's UPN typed in stays in no field once the list is gone
  }

  function signOut() {
    clearResults();
    ER.setKey(null);
    state.matrix = null;
    $("upload-section").hidden = true;
    $("signin-section").hidden = false;
    $("upload-form").reset();
    clearErrors();
    setStatus("");
    signInProblem("");
    signInStatus("Signed out.");
    $("api-key").focus();
  }

  // --- upload and score -------------------------------------------------------------------------
  function upload(event) {
    event.preventDefault();
    clearErrors();
    const file = $("cohort-file").files[0];
    if (!file) {
      showErrors("Choose a cohort CSV file first.", []);
      fileRefused(true);
      return;
    }
    const skip = $("skip-invalid").checked;
    clearResults();
    const turn = ER.currentTurn();
    const form = new FormData();
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/score/file?format=json&skip_invalid=${skip}`);
    ER.keyHeader(xhr);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";

    const progress = $("progress");
    $("progress-area").hidden = false;
    $("score-button").disabled = true; // a disabled button loses focus: the progress bar has it meanwhile
    progress.value = 0;
    $("progress-label").textContent = "Uploading…";
    progress.focus();
    setStatus("Uploading the file…");

    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.upload.addEventListener("load", () => {
      progress.removeAttribute("value"); // indeterminate while the server scores
      $("progress-label").textContent = "Scoring…";
      setStatus("File sent; scoring the cohort…");
    });
    xhr.addEventListener("loadend", () => {
      const busyFocus = document.activeElement === progress;
      $("score-button").disabled = false;
      $("progress-area").hidden = true;
      if (busyFocus) $("score-button").focus(); // until the results' heading or the error box takes it
      if (turn !== ER.currentTurn()) return; // signed out meanwhile: the list is not shown
      if (xhr.status === 0) {
        setStatus("");
        showErrors(`The upload of ${file.name} failed: the service could not be reached.`, []);
        fileRefused(true);
        return;
      }
      const body = xhr.response;
      if (xhr.status !== 200) {
        setStatus("");
        showErrors(`${file.name}: ${ER.errorMessage(xhr.status, body)}`, body && body.errors); // which file
        fileRefused(true);
        return;
      }
      Object.assign(state, { result: body, file, skipInvalid: skip });
      showResults(body);
    });
    xhr.send(form);
  }

  // --- results ----------------------------------------------------------------------------------
  function cellLabel(s) {
    const need = `need ${blank(s.need_level)}${s.need_label ? ` (${s.need_label})` : ""}`;
    return `${blank(s.matrix_cell)}: ${blank(s.rag).toUpperCase()}, ${blank(s.likelihood_band)} likelihood, ${need}`;
  }

  function fillSelect(select, values) {
    const first = select.options[0];
    select.replaceChildren(first);
    for (const [value, text] of values) {
      const option = el("option", text);
      option.value = value;
      select.append(option);
    }
    select.value = "";
  }

  function showResults(body) {
    $("results-section").hidden = false;
    const rejected = body.rejected && body.rejected.length;
    // past the LISTED_AT_MOST the answer lists, the warnings (below the list) count them all
    const many = rejected >= LISTED_AT_MOST;
    const rejectedWords = many ? `at least ${rows(LISTED_AT_MOST)}` : rows(rejected);
    const where = many ? `the first ${count(LISTED_AT_MOST)} listed above; the warnings below say how many`
      : "listed above";
    $("results-summary").textContent =
      `${count(body.pupils)} pupils scored with model version ${body.model_version}` +
      (rejected ? `; ${rejectedWords} rejected (${where}).` : ".") + ` ${body.notice}`;
    if (rejected) showErrors(`${rejectedWords} not scored (${state.file.name}):`, body.rejected);
    const run = body.run;
    // A scoring is compared only with an earlier one of the same year and census term: say when there
    // was none, rather than leave "What changed" missing without a word.
    const which = run && run.year ? `the ${run.year}${run.census ? ` ${run.census}` : ""} census` : "this census";
    $("run-summary").textContent = run
      ? `Recorded as scoring run ${blank(run.id).slice(0, 8)} on ${ER.dateTimeLabel(run.recorded_at)}` +
        (run.year ? ` (census ${run.year})` : "") + (body.changes ? "" : `. No earlier scoring of ${which} ` +
        "that this key may compare with was recorded for these schools (a school's key compares only with " +
        "scorings of its own schools' pupils, not the authority's of many schools), so nothing is compared " +
        "this time") +
        `; the next upload of ${which} will be compared with it.`
      : "";
    // Every warning, whenever there are any (collections not scored, UPNs not valid, no termly
    // attendance yet): the service's words as text, listed once, above the features scored as unknown.
    const said = (body.warnings || []).map((w) => ER.pageWords(String(w).trim())).filter(Boolean);
    $("score-warnings").querySelector("ul").replaceChildren(...said.map((w) => el("li", sentence(w))));
    $("score-warnings").hidden = !said.length;
    const missing = $("missing-features");
    if (body.missing_features && body.missing_features.length) {
      const why = said.length ? "Features scored as unknown (the warnings above say why)"
        : "No linked history was available, so these were scored as unknown";
      missing.textContent = `${why}: ${body.missing_features.join(", ")}.`;
      missing.hidden = false;
    } else {
      missing.hidden = true;
    }
    const shown = ER.showModelNotes(body); // the drift and fairness banners (notes.js)
    const scores = body.scores;
    const schools = new Map();
    for (const s of scores) if (s.school_urn && !schools.has(s.school_urn)) schools.set(s.school_urn, schoolLabel(s));
    fillSelect($("filter-school"), [...schools.entries()].sort((a, b) => a[1].localeCompare(b[1])));
    const years = [...new Set(scores.map((s) => s.nc_year).filter((y) => y !== null && y !== undefined))]
      .sort((a, b) => a - b);
    fillSelect($("filter-year"), years.map((y) => [String(y), yearLabel(y)]));
    const rags = ["red", "amber", "green"].filter((r) => scores.some((s) => s.rag === r));
    fillSelect($("filter-rag"), rags.map((r) => [r, r.toUpperCase()]));
    const cells = new Map(); // a cell in words beside its code: "L4-N3" alone meant nothing to an officer
    for (const s of scores) if (!cells.has(s.matrix_cell)) cells.set(s.matrix_cell, cellLabel(s));
    fillSelect($("filter-cell"), [...cells.entries()].sort((a, b) => String(b[0]).localeCompare(String(a[0]))));
    const changed = ER.showChanges(body);
    setStatus(ER.scoredLine(body.pupils, said.length, changed, shown.drift, shown.fairness)); // said once
    applyFilters();
    // where rows were rejected, focus stays on their list (showErrors), above the results it precedes
    if (!rejected) $("results-heading").focus();
  }

  // The UPN searched for as the list holds UPNs: any case, spaces (a pasted UPN's among them) dropped.
  const upnSearched = () => $("filter-upn").value.replace(/\s+/g, "").toUpperCase();
  let typing = null; // a redraw waiting for typing in the UPN field to pause

  // Filters apply to the whole cohort first; the pages are pages of what passes them.
  function applyFilters() {
    clearTimeout(typing); // it would only apply the UPN field as it is now, once more
    if (!state.result) return;
    const school = $("filter-school").value;
    const year = $("filter-year").value;
    const rag = $("filter-rag").value;
    const cell = $("filter-cell").value;
    // an officer looking for one pupil: their UPN, or its first characters, as the MIS shows it
    const upn = upnSearched();
    matching = [];
    state.result.scores.forEach((s, i) => {
      if (upn && !String(s.upn ?? "").toUpperCase().startsWith(upn)) return;
      if (school && s.school_urn !== school) return;
      if (year && String(s.nc_year) !== year) return;
      if (rag && s.rag !== rag) return;
      if (cell && s.matrix_cell !== cell) return;
      matching.push(i);
    });
    page = 0;
    drawPage();
  }

  function pageSize() {
    return Number($("page-size").value) || 250;
  }

  // A row opens the pupil panel through its UPN's button (a named control, one tab stop a row); a click
  // anywhere on the row opens it too, for a mouse.
  function scoreRow(s, i) {
    const tr = el("tr", null, `rag-${s.rag}`);
    tr.dataset.index = String(i);
    const open = el("button", s.upn, "row-open");
    open.type = "button";
    open.setAttribute("aria-label", `Open details for pupil ${s.upn}`);
    open.setAttribute("aria-haspopup", "dialog");
    const values = [
      [count(i + 1), "num"],
      [open, "nowrap"],
      [schoolLabel(s), ""],
      [yearLabel(s.nc_year), ""],
      [percent(s.probability), "num"],
      [blank(s.likelihood_band), ""],
      [blank(s.need_level), "num"],
      [blank(s.rag).toUpperCase(), "rag"],
      [blank(s.matrix_cell), "nowrap"],
      [ER.reasonsText(s), ""],
      [blank(s.response), ""],
    ];
    for (const [content, cls] of values) {
      const td = el("td", typeof content === "string" ? content : null, cls || null);
      if (typeof content !== "string") td.append(content);
      tr.append(td);
    }
    return tr;
  }

  function drawPage() {
    const size = pageSize();
    const pages = Math.max(1, Math.ceil(matching.length / size));
    page = Math.min(page, pages - 1);
    const start = page * size;
    const shown = matching.slice(start, start + size);
    const scores = state.result.scores;
    $("scores-table").tBodies[0].replaceChildren(...shown.map((i) => scoreRow(scores[i], i)));
    const total = count(scores.length);
    $("table-count").textContent = matching.length
      ? `Showing ${count(start + 1)}–${count(start + shown.length)} of ` +
        `${count(matching.length)} matching ${matching.length === 1 ? "pupil" : "pupils"} (${total} scored), ` +
        `page ${count(page + 1)} of ${count(pages)}.`
      : `No pupil matches these filters (${total} scored).`;
    for (const p of listPagers) p.update(page, pages);
  }

  function openRow(target) {
    const tr = target.closest && target.closest("#scores-table tbody tr");
    if (!tr || !state.result) return;
    ER.openPanel(state.result.scores[Number(tr.dataset.index)], tr.querySelector("button.row-open"));
  }

  // --- print: the filtered list (every page of it), the notice and banners, none of the controls ----
  function fillPrintArea() {
    if (!state.result) return;
    const scores = state.result.scores;
    const school = $("filter-school");
    const chosen = school.value ? school.options[school.selectedIndex].textContent : "All schools";
    const filters = [["filter-year", "year group"], ["filter-rag", "RAG"], ["filter-cell", "cell"]]
      .filter(([id]) => $(id).value)
      .map(([id, name]) => `${name} ${$(id).options[$(id).selectedIndex].textContent}`);
    const upn = upnSearched();
    if (upn) filters.unshift(`UPN starting ${upn}`);
    ER.printHeads(`${chosen}: pupils ranked by risk` + (filters.length ? ` (${filters.join(", ")})` : ""));
    const printed = matching.slice(0, PRINT_LIMIT);
    $("print-summary").textContent =
      `${count(printed.length)} pupil(s)` +
      (matching.length > printed.length ? ` of ${count(matching.length)} (choose a school to print the rest)` : "") +
      `, scored with model version ${state.result.model_version}; printed ${ER.dateLabel(new Date().toISOString())}. ` +
      state.result.notice;
    const rowsOut = printed.map((i) => {
      const s = scores[i];
      const tr = el("tr", null, `rag-${s.rag}`);
      for (const [text, cls] of [
        [count(i + 1), "num"], [s.upn, "nowrap"], [schoolLabel(s), ""], [yearLabel(s.nc_year), ""],
        [blank(s.rag).toUpperCase(), "rag"], [blank(s.likelihood_band), ""],
        [`${blank(s.need_level)}${s.need_label ? ` ${s.need_label}` : ""}`, ""], [blank(s.response), ""],
        [ER.reasonsText(s), ""],
      ]) tr.append(el("td", text, cls || null));
      return tr;
    });
    $("print-table").tBodies[0].replaceChildren(...rowsOut);
    $("print-notes").replaceChildren(...ER.printedNotes()); // the warnings and banners on paper too (notes.js)
  }

  function printList() {
    fillPrintArea();
    window.print();
  }

  // --- downloads ----------------------------------------------------------------------------------
  // The CSV has the columns of the service's scores.csv, in its order (the JSON rows carry them so);
  // text a spreadsheet would run as a formula (leading = + - @ tab CR) gets an apostrophe first, as
  // the API's CSV does (exclusion_risk.files.neutralise, OWASP's advice); numbers are left alone.
  const FORMULA_LEAD = /^[=+\-@\t\r]/;

  function csvField(value) {
    let text = value === null || value === undefined ? "" : String(value);
    if (typeof value === "string" && FORMULA_LEAD.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function download() {
    if (!state.result || !state.result.scores.length) return;
    // a plain CSV (header on row 1); the notice is on the page beside it, not inside the file
    const columns = Object.keys(state.result.scores[0]);
    const lines = [columns.join(",")];
    for (const s of state.result.scores) {
      lines.push(columns.map((c) => csvField(c === "nc_year" ? yearCode(s[c]) : s[c])).join(","));
    }
    const blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv;charset=utf-8" });
    ER.saveBlob(blob, ER.downloadName(state.result, "csv"));
    setStatus("CSV downloaded."); // said as the workbook's is
  }

  // The workbook is the service's own (notice sheet first, a sheet per school): the same file is
  // sent again with format=xlsx.
  async function downloadWorkbook() {
    const button = $("workbook-button");
    if (!state.file || button.getAttribute("aria-disabled") === "true") return; // one workbook at a time
    const turn = ER.currentTurn();
    // aria-disabled, not disabled: a disabled button loses focus, and a keyboard user would wait on <body>
    button.setAttribute("aria-disabled", "true");
    setStatus("Preparing the workbook…");
    const form = new FormData();
    form.append("file", state.file, state.file.name);
    // Not recorded again (it was recorded when scored), and compared as its run was (with the runs
    // before it), so the workbook's changes are the ones on the page: none after a first scoring.
    const run = state.result.run;
    const since = run ? `&recorded_as=${encodeURIComponent(run.id)}` : "";
    const answer = await ER.call(
      `/score/file?format=xlsx&record=false${since}&skip_invalid=${state.skipInvalid}`,
      { method: "POST", body: form, blob: true });
    button.removeAttribute("aria-disabled");
    if (turn !== ER.currentTurn()) return; // a new upload or sign-out since: not this list's workbook
    if (!answer.ok) {
      setStatus("");
      showErrors("The workbook could not be made: " + ER.errorMessage(answer.status, answer.body), []);
      return;
    }
    const named = /filename="?([^";]+)"?/.exec((answer.headers && answer.headers.get("Content-Disposition")) || "");
    ER.saveBlob(answer.body, named ? named[1] : ER.downloadName(state.result, "xlsx"));
    setStatus("Workbook downloaded.");
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", signIn);
    $("upload-form").addEventListener("submit", upload);
    $("signout-button").addEventListener("click", signOut);
    $("download-button").addEventListener("click", download);
    $("workbook-button").addEventListener("click", downloadWorkbook);
    $("print-button").addEventListener("click", printList);
    window.addEventListener("beforeprint", fillPrintArea); // the browser's own Print too
    for (const id of ["filter-school", "filter-year", "filter-rag", "filter-cell"]) {
      $(id).addEventListener("change", applyFilters);
    }
    // the list (and its count, a live region) redrawn once typing pauses, not at each key
    $("filter-upn").addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(applyFilters, 300);
    });
    $("page-size").addEventListener("change", () => {
      page = 0;
      drawPage();
    });
    $("filters").addEventListener("submit", (event) => event.preventDefault());
    const go = (p) => {
      page = p;
      drawPage();
    };
    listPagers = [ER.pager($("pager-top"), "the ranked list", go), ER.pager($("pager"), "the ranked list", go)];
    const tbody = $("scores-table").tBodies[0];
    tbody.addEventListener("click", (event) => openRow(event.target)); // the button's Enter and Space too
  });
})();
