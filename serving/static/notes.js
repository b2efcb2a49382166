// What a census scoring says about the model beside the ranked list: the drift check (the cohort
// against the years the model learned from, models/drift.yaml) and the fairness review's calibration
// findings logged with the model version (a group whose probabilities run high or low, and how to read
// them). Each in its own banner, the service's words as text; hidden when there is nothing to say.
"use strict";

(() => {
  const ER = window.ER;
  const { $, el } = ER;

  const capital = (text) => text[0].toUpperCase() + text.slice(1);

  // "drift not checked: ..." / "drift could not be checked: ..." say why no check ran: not warnings.
  // Returns the number of drift warnings shown (the headline counts them with the cohort's).
  function showDrift(lines) {
    const banner = $("drift-warnings");
    const notChecked = lines.filter((w) => /^drift (not|could not)/i.test(w));
    const warnings = lines.filter((w) => !notChecked.includes(w));
    const parts = [];
    if (warnings.length) {
      const list = el("ul");
      list.append(...warnings.map((w) => el("li", w)));
      parts.push(el("strong", "Drift: this cohort differs from the years the model learned from. " +
        "Weigh its scores with care; retraining may be due."), list);
    }
    parts.push(...notChecked.map((w) => el("p", `${capital(w)}.`)));
    banner.replaceChildren(...parts);
    banner.hidden = !lines.length;
    return warnings.length;
  }

  // The review's first line introduces its findings ("the fairness review of version 3 found ...:");
  // one that could not be read is a line on its own.
  function showFairness(lines) {
    const banner = $("fairness-findings");
    const [first, ...findings] = lines;
    const parts = [];
    if (first) parts.push(el(findings.length ? "strong" : "p", capital(first)));
    if (findings.length) {
      const list = el("ul");
      list.append(...findings.map((line) => el("li", line)));
      parts.push(list);
    }
    banner.replaceChildren(...parts);
    banner.hidden = !lines.length;
  }

  // How to read the probabilities goes on the paper too: the scoring's warnings (an invalid UPN, the
  // features scored as unknown) and the drift and fairness banners as the page shows them, copied without
  // their ids and live regions (the printed list had the banners but not the warnings).
  function printedNotes() {
    return ["score-warnings", "missing-features", "drift-warnings", "fairness-findings"].map((id) => $(id))
      .filter((banner) => !banner.hidden && banner.childNodes.length)
      .map((banner) => {
        const copy = banner.cloneNode(true);
        copy.removeAttribute("id");
        copy.removeAttribute("role");
        return copy;
      });
  }

  // The printed list's title, and the line its table's head repeats on every page (the title and the
  // decision-support notice): a 48-page print carried them on page 1 only.
  function printHeads(title) {
    $("print-title").textContent = title;
    $("print-running").replaceChildren(el("strong", `${title}.`), ` ${$("notice").textContent.trim()}`);
  }

  function showModelNotes(body) {
    showFairness(body.fairness_findings || []);
    return showDrift(body.drift_warnings || []);
  }

  Object.assign(window.ER, { showModelNotes, printedNotes, printHeads });
})();
