// What the page's scripts share: the signed-in state (in memory only), the service calls, and the
// small formatting helpers. The key is never put in storage, cookies or a URL; nor is a UPN (a UPN
// goes to the service in a request body only, since the access log records paths).
"use strict";

window.ER = (() => {
  let apiKey = null; // the scorer's key, for this tab only: in this closure, not on window.ER
  const state = {
    result: null, // the last /score/file answer
    file: null, // the file it scored (sent again for the workbook and for one pupil's factors)
    skipInvalid: false,
    matrix: null, // GET /risk-matrix
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // Missing or null values show as blank, never as "undefined" or "null".
  function blank(value) {
    return value === null || value === undefined || (typeof value === "number" && Number.isNaN(value))
      ? "" : String(value);
  }

  // A count as the page writes every count: with thousands separators (62,509), blank when missing.
  function count(n) {
    return typeof n === "number" && Number.isFinite(n) ? n.toLocaleString("en-GB") : blank(n);
  }

  function percent(p, digits = 1) {
    return typeof p === "number" && Number.isFinite(p) ? `${(100 * p).toFixed(digits)}%` : "";
  }

  // The census's code of an NC year number, as scores.csv writes it (linkage/codes.py nc_year_code):
  // the JSON carries the number (0 Reception, -1 and -2 nursery), a downloaded CSV the code.
  function yearCode(nc) {
    if (nc === null || nc === undefined || nc === "" || Number.isNaN(Number(nc))) return nc;
    const n = Math.round(Number(nc));
    return { "-2": "N1", "-1": "N2", 0: "R" }[n] || String(n);
  }

  function yearLabel(nc) {
    if (nc === null || nc === undefined || nc === "" || Number.isNaN(Number(nc))) return "unknown";
    const n = Math.round(Number(nc));
    if (n === -2) return "N1";
    if (n === -1) return "N2";
    if (n === 0) return "Reception";
    return `Year ${n}`;
  }

  function schoolLabel(s) {
    if (!s.school_urn) return s.school_name || "";
    return s.school_name ? `${s.school_name} (${s.school_urn})` : s.school_urn;
  }

  function dateLabel(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
  }

  // A date and its time of day, where two scorings of one day must be told apart.
  function dateTimeLabel(iso) {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return dateLabel(iso);
    return `${dateLabel(iso)}, ${d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })}`;
  }

  // A band's realised precision, whichever shape it comes in: the matrix's object with its sentence
  // ({text, precision, low, high}), or scores.csv's share (0.312) and interval ("0.312-0.371").
  function precisionText(value, ci) {
    if (value === null || value === undefined || value === "") return "";
    if (typeof value === "object") {
      if (value.text) return value.text;
      return typeof value.precision === "number" ? precisionText(value.precision, [value.low, value.high]) : "";
    }
    const main = typeof value === "number" ? percent(value, 0) : String(value);
    let bounds = Array.isArray(ci) ? ci : (typeof ci === "string" ? ci.split(/[-–]/).map(Number) : []);
    bounds = bounds.filter((b) => typeof b === "number" && Number.isFinite(b));
    const interval = bounds.length === 2 ? ` [95% interval ${percent(bounds[0], 0)}–${percent(bounds[1], 0)}]`
      : (typeof ci === "string" && ci ? ` [${ci}]` : "");
    return main ? `${main} of pupils in this band were suspended or excluded in the test year${interval}` : "";
  }

  // The service's advice names its own parameter (skip_invalid=true); on this page it is the tick box.
  // A detail that is not a sentence (FastAPI's or a gateway's 422 carries a list of objects) gives
  // null, so the caller's own sentence is shown rather than "[object Object]".
  function said(body) {
    const detail = body && body.detail;
    return typeof detail === "string"
      ? detail.replace(/(send )?skip_invalid=true/g, "tick “Score the valid rows and list any rejected rows”")
      : null;
  }

  // A warning in the page's words: the left-out rows' sentence names the API's parameter and the JSON
  // answer's field, where on this page the rows are listed above the results (the tick box's list).
  const LEFT_OUT = / \(skip_invalid\): the JSON answer's `rejected` lists (each|the first ([\d,]+)) by row/;
  function pageWords(text) {
    return text.replace(LEFT_OUT, (_, which, first) =>
      (first ? `: the first ${first} are listed above` : ": each is listed above") + " by row");
  }

  function errorMessage(status, body) {
    if (status === 401) return "The API key was not accepted. Check it, or ask for a new one.";
    if (status === 403) return said(body) || "This key may not do that."; // a school's key: its schools only
    if (status === 413) return said(body) || "The file is too large to score in one go.";
    if (status === 503) {
      // Starting up, the model unavailable, or already scoring as many files as it runs at once.
      return said(body) || "The service is busy or starting up; try again shortly.";
    }
    return said(body) || `The service answered ${status}.`;
  }

  // A call to the service with the key; resolves to {ok, status, body} and never throws.
  async function call(path, options = {}) {
    const headers = { "X-API-Key": apiKey, ...(options.headers || {}) };
    try {
      const response = await fetch(path, { ...options, headers });
      const body = options.blob && response.ok
        ? await response.blob()
        : await response.json().catch(() => null);
      return { ok: response.ok, status: response.status, body, headers: response.headers };
    } catch (err) {
      return { ok: false, status: 0, body: null, headers: null };
    }
  }

  // A download's name says the census scored, the model and the recorded run, as the service's own
  // downloads do (run_history.download_name): "scores_2019-20_autumn_model_7_run_3f2a9c1e.csv". The run
  // is absent when not recorded.
  function downloadName(result, extension) {
    const run = result.run || {};
    const parts = ["scores", (run.year || "").replace("/", "-"), run.census, `model_${result.model_version}`,
      run.id ? `run_${run.id.slice(0, 8)}` : ""];
    return parts.filter(Boolean).join("_").replace(/[^A-Za-z0-9._-]/g, "") + "." + extension;
  }

  function saveBlob(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // Page controls in a <nav>: First, Previous, "Page n of N", Next, Last. The buttons are made once and
  // only enabled or disabled afterwards, so keyboard focus stays where the officer left it.
  function pager(nav, label, onGo) {
    const go = {};
    const where = el("span", "", "pager-where"); // announced by the list's own count, not here
    const buttons = [["first", "First"], ["previous", "Previous"], ["next", "Next"], ["last", "Last"]];
    for (const [key, text] of buttons) {
      const b = el("button", text, "secondary");
      b.type = "button";
      b.dataset.go = key;
      b.setAttribute("aria-label", `${text} page of ${label}`);
      go[key] = b;
    }
    nav.replaceChildren(go.first, go.previous, where, go.next, go.last);
    let page = 0;
    let pages = 1;
    nav.addEventListener("click", (event) => {
      const key = event.target.dataset && event.target.dataset.go;
      if (!key) return;
      const target = { first: 0, previous: page - 1, next: page + 1, last: pages - 1 }[key];
      const focusAfter = event.target;
      onGo(Math.max(0, Math.min(pages - 1, target)));
      if (focusAfter.disabled) (key === "next" || key === "last" ? go.previous : go.next).focus();
    });
    return {
      update(current, total) {
        page = current;
        pages = Math.max(1, total);
        where.textContent = `Page ${count(page + 1)} of ${count(pages)}`;
        go.first.disabled = go.previous.disabled = page === 0;
        go.next.disabled = go.last.disabled = page >= pages - 1;
        nav.hidden = pages <= 1;
      },
    };
  }

  function setKey(key) {
    apiKey = key;
  }

  function keyHeader(xhr) {
    xhr.setRequestHeader("X-API-Key", apiKey);
  }

  // Each list on screen is a turn: clearing it (a new upload, sign-out) starts the next, and an answer
  // asked for in an earlier turn is dropped when it comes (its list, or its workbook, is no longer shown).
  let turn = 0;
  const newTurn = () => { turn += 1; };
  const currentTurn = () => turn;

  function setStatus(text) {
    $("status").textContent = text;
  }

  // The headline after a scoring: the warnings box's count, the drift banner's and the fairness banner's
  // kind, each as its box says it (it read "4 warnings" where the warnings box listed one beside three
  // drift lines; the banners are no live regions, so this says them), and the pupils
  // with thousands separators as the page's other counts have them (it read "Scored 62509 pupils").
  function scoredLine(pupils, warnings, changed, drift = 0, fairness = "") {
    const some = (n, one, many) => (n === 1 ? `1 ${one}` : `${count(n)} ${many}`);
    const review = { findings: "the fairness review's findings", note: "a note on the fairness review" };
    const parts = [warnings ? some(warnings, "warning", "warnings") : "",
      drift ? some(drift, "drift note", "drift notes") : "", review[fairness] || ""].filter(Boolean);
    const said = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}` : parts.join("");
    const warned = said ? ` ${said[0].toUpperCase()}${said.slice(1)}, listed with the results.` : "";
    return `Scored ${count(Number(pupils))} pupils.${warned}${changed ? ` ${changed}` : ""}`;
  }

  // A Reasons cell never blank: a pupil with no factor of their own above the floor is rated on context
  // (year group, the school's record, home area), which models/reasons.py keeps out of `reasons`; the
  // table and the print say so, with the context, where they showed nothing (the CSV keeps both columns).
  function reasonsText(score) {
    const reasons = blank(score.reasons).trim();
    if (reasons) return reasons;
    const context = blank(score.context).trim();
    return context ? `No factor of the child's own raises the score; its context — ${context}`
      : "No factor of the child's own raises the score.";
  }

  return {
    state, $, el, blank, count, percent, yearLabel, yearCode, schoolLabel, dateLabel, dateTimeLabel, precisionText,
    errorMessage, pageWords, call, downloadName, saveBlob, setStatus, scoredLine, pager, setKey, keyHeader, newTurn,
    currentTurn, reasonsText,
  };
})();
