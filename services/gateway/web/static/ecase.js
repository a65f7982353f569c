// E-Case pages: calls the same JSON APIs a program would, with the session cookie and the
// CSRF header.  No framework, no CDN.
"use strict";

const ecase = {
  csrf() { return document.querySelector('meta[name="csrf-token"]').content; },
  async api(method, path, body) {
    const options = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") { options.headers["X-CSRFToken"] = ecase.csrf(); }
    if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    const response = await fetch(path, options);
    const data = response.headers.get("Content-Type", "").includes("json") ? await response.json() : null;
    return { ok: response.ok, status: response.status, data };
  },
  baht(value) { return Number(value).toLocaleString("th-TH", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); },
};

const JOB_STATUS = { queued: "อยู่ในคิว", running: "กำลังดำเนินการ", done: "เสร็จสิ้น", failed: "ไม่สำเร็จ" };
const JOB_STEPS = {
  locking: "กำลังล็อกเคสที่สำนักงานเขต", lock_requested: "ส่งคำขอล็อกเคสแล้ว", approved: "อนุมัติแล้ว",
  lock_refused: "ล็อกเคสไม่สำเร็จ", parsing: "กำลังอ่านไฟล์", posting: "กำลังบันทึกผล",
};

// A job card (macro job_progress): poll GET /api/jobs/{id} until done or failed, then go on.
async function followJob(card) {
  const bar = card.querySelector("progress");
  const text = card.querySelector(".job-status");
  const started = Date.now();
  for (;;) {
    const result = await ecase.api("GET", `/api/jobs/${encodeURIComponent(card.dataset.job)}`);
    const job = result.data || {};
    const progress = job.progress || {};
    const step = progress.step ? ` · ${JOB_STEPS[progress.step] || progress.step}` : "";
    if (typeof progress.percent === "number") { bar.value = progress.percent; }
    text.textContent = `${JOB_STATUS[job.status] || "กำลังตรวจสอบ"}${step}`;
    card.dataset.status = job.status || "";
    if (job.status === "done") {
      bar.value = 100;
      if (card.dataset.doneUrl) { window.location.assign(card.dataset.doneUrl); }
      return;
    }
    if (job.status === "failed") {
      const error = job.error && (job.error.message || job.error);
      text.textContent = `ไม่สำเร็จ: ${typeof error === "string" ? error : "กรุณาตรวจสอบรายละเอียด"}`;
      text.classList.add("field-error");
      return;
    }
    const waited = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, waited < 10000 ? 700 : 3000));
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  for (const card of document.querySelectorAll("[data-job]")) { followJob(card); }
  // Forms that need a confirmation say so in data-confirm (no inline handlers: CSP).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  }
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  const health = document.querySelector("[data-health]");
  if (health) {
    const result = await ecase.api("GET", "/api/health");
    const services = result.data && result.data.services ? result.data.services : {};
    const names = { intake: "รับเรื่อง", approval: "อนุมัติ", payment: "จ่ายเงิน", reporting: "รายงาน" };
    const list = document.createElement("ul");
    for (const [key, label] of Object.entries(names)) {
      const item = document.createElement("li");
      const ok = services[key] && services[key].status === "ok";
      item.textContent = `${label}: ${ok ? "พร้อมใช้งาน" : "ไม่พร้อม"}`;
      list.appendChild(item);
    }
    health.querySelector("p").replaceWith(list);
  }
});
