// จ่ายเงินประชาชน: KTB file downloads that show the service's refusal on the page, the BAAC
// branch rule on the bank-details form, and the import page once its job has ended.
"use strict";

const PROBLEM_FIELDS = {
  bank_code: "รหัสธนาคาร", branch_code: "รหัสสาขา", account_no: "เลขที่บัญชี", receiver_name: "ชื่อบัญชี",
  account_name: "ชื่อบัญชี", amount: "จำนวนเงิน", ref2: "เลขอ้างอิง", email: "อีเมล", mobile: "หมายเลขโทรศัพท์",
};

function fileNameOf(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/.exec(header);
  return match ? match[1] : fallback;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null || text === "" ? "—" : String(text);
  row.appendChild(td);
  return td;
}

// The service refused to make the file: its Thai message and, for lines that break the bank's
// rules (422 lines_invalid), one row per problem with a link to correct that payee.
function showRefusal(box, status, data) {
  const error = (data && data.error) || {};
  const message = document.createElement("p");
  message.className = "flash error";
  message.setAttribute("role", "alert");
  message.textContent = error.message || `ดาวน์โหลดไม่สำเร็จ (รหัส ${status})`;
  box.appendChild(message);
  const problems = Array.isArray(error.problems) ? error.problems : [];
  if (!problems.length) { return; }
  const table = document.createElement("table");
  table.className = "problems";
  table.dataset.problems = "";
  const head = table.createTHead().insertRow();
  for (const title of ["ลำดับในไฟล์", "เลขที่เคส", "ช่อง", "ปัญหา", ""]) {
    const th = document.createElement("th");
    th.textContent = title;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const problem of problems) {
    const row = body.insertRow();
    cell(row, problem.line);
    cell(row, problem.label);
    cell(row, PROBLEM_FIELDS[problem.field] || problem.field);
    cell(row, problem.message);
    const action = cell(row, "");
    const line = [...document.querySelectorAll("tr[data-case-no]")].find((tr) => tr.dataset.caseNo === problem.label);
    if (line && line.dataset.lineUrl) {
      action.textContent = "";
      const link = document.createElement("a");
      link.href = line.dataset.lineUrl;
      link.textContent = "แก้ไข";
      action.appendChild(link);
    }
  }
  box.appendChild(table);
}

async function download(form, submitter) {
  const box = document.getElementById(form.dataset.result);
  box.replaceChildren();
  // A button's formAction is the page's own URL when it has no formaction attribute.
  const action = submitter && submitter.hasAttribute("formaction") ? submitter.getAttribute("formaction") : form.getAttribute("action");
  const target = new URL(action, window.location.href);
  for (const [name, value] of new FormData(form)) { if (value) { target.searchParams.set(name, value); } }
  const buttons = form.querySelectorAll("button");
  for (const button of buttons) { button.disabled = true; }
  const waiting = document.createElement("p");
  waiting.className = "muted";
  waiting.textContent = "กำลังจัดทำไฟล์…";
  box.appendChild(waiting);
  try {
    const response = await fetch(target, { credentials: "same-origin", headers: { "Accept": "*/*" } });
    box.replaceChildren();
    if (!response.ok) {
      const isJson = (response.headers.get("Content-Type") || "").includes("json");
      showRefusal(box, response.status, isJson ? await response.json() : null);
      return;
    }
    const name = fileNameOf(response, target.pathname.split("/").pop());
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 60000);
    const done = document.createElement("p");
    done.className = "flash ok";
    done.setAttribute("role", "status");
    done.dataset.downloaded = name;
    done.append(`ดาวน์โหลด ${name} แล้ว · `);
    const refresh = document.createElement("a");
    refresh.href = window.location.pathname;
    refresh.textContent = "แสดงสถานะล่าสุดของรายการ";
    done.appendChild(refresh);
    box.appendChild(done);
  } catch (error) {
    box.replaceChildren();
    showRefusal(box, 0, { error: { message: "ติดต่อระบบไม่ได้ กรุณาลองใหม่อีกครั้ง" } });
  } finally {
    for (const button of buttons) { button.disabled = false; }
  }
}

// BAAC (and any bank that needs one) requires a branch code: say so and require the field.
function branchRule(form) {
  const banks = (form.dataset.branchBanks || "").split(",").filter(Boolean);
  const bank = form.querySelector('select[name="bank_code"]');
  const branch = form.querySelector('input[name="branch_code"]');
  if (!bank || !branch) { return; }
  const label = branch.closest("label").querySelector(".label");
  const mark = document.createElement("abbr");
  mark.className = "req";
  mark.title = "จำเป็น";
  mark.textContent = " *";
  const update = () => {
    const needed = banks.includes(bank.value);
    branch.required = needed;
    if (needed && !label.contains(mark)) { label.appendChild(mark); }
    if (!needed && label.contains(mark)) { mark.remove(); }
  };
  bank.addEventListener("change", update);
  update();
}

// The chosen effective date in the Buddhist era (the date input shows the browser's calendar).
function beDate(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return match ? `${match[3]}/${match[2]}/${Number(match[1]) + 543}` : "—";
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-download]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      download(form, event.submitter);
    });
    const input = form.querySelector('input[name="effective_date"]');
    const shown = form.querySelector("[data-be-date]");
    if (input && shown) {
      input.addEventListener("input", () => { shown.textContent = `วันที่มีผลที่เลือก: ${beDate(input.value)} (พ.ศ.)`; });
    }
  }
  for (const form of document.querySelectorAll("form[data-bank-form]")) { branchRule(form); }
  // An import whose job failed (a rejected file): show the page again, which lists the errors.
  for (const card of document.querySelectorAll("[data-job]")) {
    new MutationObserver(() => {
      if (card.dataset.status === "failed") { window.location.reload(); }
    }).observe(card, { attributes: true, attributeFilter: ["data-status"] });
  }
});
