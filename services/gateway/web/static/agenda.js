// The agenda and report pages: what ecase.js does not do for every page.  No inline scripts (CSP).
"use strict";

// A closing that failed: reload the progress page, which then lists the refused cases and why.
function watchFailedJob(card) {
  const observer = new MutationObserver(() => {
    if (card.dataset.status === "failed") {
      observer.disconnect();
      window.location.reload();
    }
  });
  observer.observe(card, { attributes: true, attributeFilter: ["data-status"] });
}

// An approved batch whose documents reporting has not prepared yet: ask reporting's batch list
// until the batch is there, then reload so the download links appear.
async function waitForDocuments(note) {
  const params = new URLSearchParams({ per_page: "500" });
  if (note.dataset.fiscalYear) { params.set("fiscal_year", note.dataset.fiscalYear); }
  if (note.dataset.district) { params.set("district_code", note.dataset.district); }
  const started = Date.now();
  while (Date.now() - started < 300000) {
    const waited = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, waited < 20000 ? 1000 : 5000));
    const result = await ecase.api("GET", `/api/reporting/batches?${params}`);
    const items = result.data && result.data.items ? result.data.items : [];
    if (items.some((b) => b.id === note.dataset.batch)) {
      window.location.reload();
      return;
    }
  }
  note.textContent = "เอกสารยังไม่พร้อม กรุณาโหลดหน้านี้ใหม่ภายหลัง";
}

document.addEventListener("DOMContentLoaded", () => {
  for (const card of document.querySelectorAll("[data-job]")) { watchFailedJob(card); }
  for (const note of document.querySelectorAll("[data-docs-pending]")) { waitForDocuments(note); }
});
