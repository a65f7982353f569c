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

document.addEventListener("DOMContentLoaded", async () => {
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
