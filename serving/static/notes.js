// What the page says about the model: when it was last checked against what happened and what it was
// fitted on (beside the sign-in), and what a census scoring says about it beside the ranked list: the
// drift check (the cohort against the years the model learned from, models/drift.yaml) and the fairness
// review's calibration findings logged with the model version (a group whose probabilities run high or
// low, and how to read them). Each in its own banner, the service's words as text; hidden when there is
// nothing to say.
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
    // what the status line says of it: its lines name some findings and count the rest, so no count; a
    // line alone says the review could not be read
    return findings.length ? "findings" : lines.length ? "note" : "";
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

  // "Last checked": how the model's scores for a past year turned out (`exclusion-risk evaluate`).
  function checkedText(checked) {
    if (!checked || !checked.date) {
      return "Last checked against what happened: never (run exclusion-risk evaluate once a scored year's outcomes are in).";
    }
    const pct = (share) => `${Math.round(100 * share)}%`;
    let text = `Last checked against what happened on ${ER.dateLabel(checked.date)}: of the top 5% of the ` +
      `${checked.year || ""} ${checked.census || ""} scores, `.replace(/\s+/g, " ");
    if (checked.precision_at_5pct === null || checked.precision_at_5pct === undefined) {
      return text + "too few pupils to say how many were suspended or excluded.";
    }
    text += `${pct(checked.precision_at_5pct)}`;
    if (checked.ci_low !== null && checked.ci_low !== undefined) {
      text += ` [${pct(checked.ci_low)}–${pct(checked.ci_high)}]`;
    }
    text += ` ${checked.outcome || "were suspended or excluded later that year"}`;
    if (checked.out_of_sample === false) {
      return text + ": an in-sample check (the model was fitted or tested on that year's outcomes), " +
        "not a test of how it does on new pupils.";
    }
    if (checked.consistent_with_stated === true) text += ", consistent with the model's stated precision";
    if (checked.consistent_with_stated === false) {
      text += `, ${checked.verdict || "significantly different from the model's stated precision"}`;
    }
    return text + ".";
  }

  function formatPeriod(period) {
    const parts = [];
    if (period.fitted_years) {
      const years = period.fitted_years.split(",").join(" + ");
      const held = period.validation_year && period.fitted_years.includes(period.validation_year);
      parts.push(`fitted on ${years}${held ? " less the calibration pupils" : ""}`);
    } else if (period.train_years) {
      parts.push(`settings searched on ${period.train_years}`);
    }
    if (period.validation_year) parts.push(`calibrated on ${period.validation_year}'s held-out pupils`);
    if (period.test_year) parts.push(`tested on ${period.test_year}`);
    return parts.join(", ");
  }

  // Returns what each shows (drift warnings counted; the review's findings or a note on it): the status
  // line says them, the banners being no live regions.
  function showModelNotes(body) {
    return { fairness: showFairness(body.fairness_findings || []), drift: showDrift(body.drift_warnings || []) };
  }

  Object.assign(window.ER, { showModelNotes, printedNotes, printHeads, checkedText, formatPeriod });
})();
