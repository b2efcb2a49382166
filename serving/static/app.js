// The inclusion officer's page: sign in with a key, upload a cohort, read and download the ranked list.
// The key lives only in this script's memory: never in storage, cookies or the URL.
"use strict";

(() => {
  // scores.csv as `exclusion-risk score` writes it: the contract's columns, then the officer's
  const CONTRACT_COLUMNS = [
    "upn", "probability", "likelihood_band", "need_level", "rag", "matrix_cell", "reasons", "model_version",
    "school_urn", "nc_year", "need_label", "response",
  ];
  const TABLE_LIMIT = 1000; // rows drawn at once; the download always holds every pupil

  let apiKey = null;
  let result = null;

  const $ = (id) => document.getElementById(id);

  function setStatus(text) {
    $("status").textContent = text;
  }

  function showErrors(title, problems) {
    const box = $("errors");
    box.replaceChildren();
    const h = document.createElement("h3");
    h.textContent = title;
    box.append(h);
    if (problems && problems.length) {
      const list = document.createElement("ul");
      for (const p of problems.slice(0, 50)) {
        const li = document.createElement("li");
        const where = [p.row ? `row ${p.row}` : null, p.field ? `column ${p.field}` : null]
          .filter(Boolean).join(", ");
        li.textContent = where ? `${where}: ${p.reason}` : p.reason;
        list.append(li);
      }
      box.append(list);
      if (problems.length > 50) {
        const more = document.createElement("p");
        more.textContent = `…and ${problems.length - 50} more.`;
        box.append(more);
      }
    }
    box.hidden = false;
    box.focus();
  }

  function clearErrors() {
    $("errors").hidden = true;
    $("errors").replaceChildren();
  }

  function errorMessage(status, body) {
    if (status === 401) return "The API key was not accepted. Check it, or ask for a new one.";
    if (status === 403) return "This key may not do that.";
    if (status === 413) return (body && body.detail) || "The file is too large to score in one go.";
    if (status === 503) {
      // Starting up, the model unavailable, or already scoring as many files as it runs at once.
      return (body && body.detail) || "The service is busy or starting up; try again shortly.";
    }
    return (body && body.detail) || `The service answered ${status}.`;
  }

  function rows(n) {
    return n === 1 ? "1 row was" : `${n} rows were`;
  }

  function yearLabel(nc) {
    if (nc === null || nc === undefined || Number.isNaN(nc)) return "unknown";
    const n = Math.round(nc);
    if (n === -2) return "N1";
    if (n === -1) return "N2";
    if (n === 0) return "Reception";
    return `Year ${n}`;
  }

  // --- sign in ----------------------------------------------------------------------------------
  async function signIn(event) {
    event.preventDefault();
    clearErrors();
    const key = $("api-key").value.trim();
    if (!key) {
      showErrors("Enter your API key.", []);
      return;
    }
    setStatus("Checking the key…");
    let response;
    try {
      response = await fetch("/model", { headers: { "X-API-Key": key } });
    } catch (err) {
      setStatus("");
      showErrors("The service could not be reached.", []);
      return;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      setStatus("");
      showErrors(errorMessage(response.status, body), []);
      return;
    }
    apiKey = key;
    $("api-key").value = "";
    $("signin-section").hidden = true;
    $("upload-section").hidden = false;
    const period = formatPeriod(body.training_period || {});
    $("model-summary").textContent =
      `Signed in. Model ${body.name} version ${body.version}` + (period ? ` (${period})` : "") + ".";
    showHistory(body.history);
    setStatus("");
    $("cohort-file").focus();
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
        ` (${history.pupils} pupils` + (history.census_years ? `, census ${history.census_years}` : "") +
        (rates ? `; records linked: ${rates}` : "") + ").";
      box.className = "";
    } else {
      box.textContent = `Census uploads cannot be scored now. ${history.detail}`;
      box.className = "warning";
    }
  }

  function formatPeriod(period) {
    const parts = [];
    if (period.train_years) parts.push(`trained on ${period.train_years}`);
    if (period.test_year) parts.push(`tested on ${period.test_year}`);
    return parts.join(", ");
  }

  function signOut() {
    apiKey = null;
    result = null;
    $("upload-section").hidden = true;
    $("results-section").hidden = true;
    $("signin-section").hidden = false;
    $("upload-form").reset();
    clearErrors();
    setStatus("Signed out.");
    $("api-key").focus();
  }

  // --- upload and score -------------------------------------------------------------------------
  function upload(event) {
    event.preventDefault();
    clearErrors();
    const file = $("cohort-file").files[0];
    if (!file) {
      showErrors("Choose a cohort CSV file first.", []);
      return;
    }
    const skip = $("skip-invalid").checked;
    const form = new FormData();
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/score/file?format=json&skip_invalid=${skip}`);
    xhr.setRequestHeader("X-API-Key", apiKey);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";

    const progress = $("progress");
    $("progress-area").hidden = false;
    $("score-button").disabled = true;
    progress.value = 0;
    $("progress-label").textContent = "Uploading…";
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
      $("score-button").disabled = false;
      $("progress-area").hidden = true;
      if (xhr.status === 0) {
        setStatus("");
        showErrors("The upload failed: the service could not be reached.", []);
        return;
      }
      const body = xhr.response;
      if (xhr.status !== 200) {
        setStatus("");
        showErrors(errorMessage(xhr.status, body), body && body.errors);
        return;
      }
      result = body;
      setStatus(`Scored ${body.pupils} pupils.`);
      showResults(body);
    });
    xhr.send(form);
  }

  // --- results ----------------------------------------------------------------------------------
  function fillSelect(select, values, label) {
    const first = select.options[0];
    select.replaceChildren(first);
    for (const [value, text] of values) {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label ? label(text) : text;
      select.append(option);
    }
    select.value = "";
  }

  function showResults(body) {
    $("results-section").hidden = false;
    const rejected = body.rejected && body.rejected.length;
    $("results-summary").textContent =
      `${body.pupils} pupils scored with model version ${body.model_version}` +
      (rejected ? `; ${rows(rejected)} rejected (listed above).` : ".") + ` ${body.notice}`;
    if (rejected) showErrors(`${rows(rejected)} not scored:`, body.rejected);
    const missing = $("missing-features");
    if (body.missing_features && body.missing_features.length) {
      missing.textContent =
        `No linked history was available, so these were scored as unknown: ${body.missing_features.join(", ")}.`;
      missing.hidden = false;
    } else {
      missing.hidden = true;
    }
    const schools = [...new Set(body.scores.map((s) => s.school_urn).filter((s) => s))].sort();
    fillSelect($("filter-school"), schools.map((s) => [s, s]));
    const years = [...new Set(body.scores.map((s) => s.nc_year).filter((y) => y !== null))].sort((a, b) => a - b);
    fillSelect($("filter-year"), years.map((y) => [String(y), yearLabel(y)]));
    const cells = [...new Set(body.scores.map((s) => s.matrix_cell))].sort().reverse();
    fillSelect($("filter-cell"), cells.map((c) => [c, c]));
    drawTable();
    $("results-heading").focus();
  }

  function drawTable() {
    if (!result) return;
    const school = $("filter-school").value;
    const year = $("filter-year").value;
    const cell = $("filter-cell").value;
    const tbody = $("scores-table").tBodies[0];
    const rows = [];
    let shown = 0;
    let matched = 0;
    result.scores.forEach((s, i) => {
      if (school && s.school_urn !== school) return;
      if (year && String(s.nc_year) !== year) return;
      if (cell && s.matrix_cell !== cell) return;
      matched += 1;
      if (shown >= TABLE_LIMIT) return;
      shown += 1;
      const tr = document.createElement("tr");
      tr.className = `rag-${s.rag}`;
      const values = [
        [String(i + 1), "num"],
        [s.upn, "nowrap"],
        [s.school_urn || "", ""],
        [yearLabel(s.nc_year), ""],
        [`${(100 * s.probability).toFixed(1)}%`, "num"],
        [s.likelihood_band, ""],
        [String(s.need_level), "num"],
        [s.rag.toUpperCase(), "rag"],
        [s.matrix_cell, "nowrap"],
        [s.reasons, ""],
      ];
      for (const [text, cls] of values) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        tr.append(td);
      }
      rows.push(tr);
    });
    tbody.replaceChildren(...rows);
    $("table-count").textContent = matched > shown
      ? `Showing the first ${shown} of ${matched} matching pupils; the download has them all.`
      : `Showing ${matched} of ${result.scores.length} pupils.`;
  }

  // --- download: the contract's scores.csv columns, the same file the API gives with format=csv ----
  // Text a spreadsheet would run as a formula (leading = + - @ tab CR) gets an apostrophe first, as
  // the API's CSV does (exclusion_risk.files.neutralise, OWASP's advice); numbers are left alone.
  const FORMULA_LEAD = /^[=+\-@\t\r]/;

  function csvField(value) {
    let text = value === null || value === undefined ? "" : String(value);
    if (typeof value === "string" && FORMULA_LEAD.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function download() {
    if (!result) return;
    // a plain CSV (header on row 1); the notice is on the page beside it, not inside the file
    const lines = [CONTRACT_COLUMNS.join(",")];
    for (const s of result.scores) lines.push(CONTRACT_COLUMNS.map((c) => csvField(s[c])).join(","));
    const blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = `scores_model_${result.model_version}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", signIn);
    $("upload-form").addEventListener("submit", upload);
    $("signout-button").addEventListener("click", signOut);
    $("download-button").addEventListener("click", download);
    for (const id of ["filter-school", "filter-year", "filter-cell"]) $(id).addEventListener("change", drawTable);
  });
})();
