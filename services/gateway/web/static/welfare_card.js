// The welfare card measure's pages: a filter form whose province changes the district list is sent
// again at once (the district options come from the server).  No inline handlers (CSP).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    const province = form.querySelector("select[name=province_code]");
    if (!province) { continue; }
    province.addEventListener("change", () => {
      const area = form.querySelector("select[name=area_code]");
      if (area) { area.value = ""; }
      form.submit();
    });
  }
});

// An import refused by the worker ends its job as "failed": go to the import's page all the same,
// which lists the refused lines (ecase.js only follows jobs that end "done").
document.addEventListener("DOMContentLoaded", () => {
  for (const card of document.querySelectorAll("[data-job][data-done-url]")) {
    const observer = new MutationObserver(() => {
      if (card.dataset.status === "failed") {
        observer.disconnect();
        window.location.assign(card.dataset.doneUrl);
      }
    });
    observer.observe(card, { attributes: true, attributeFilter: ["data-status"] });
  }
});
