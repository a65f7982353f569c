// บันทึกข้อมูลเคส / แก้ไขข้อมูลเคส: the age from the birth date, the branch code for banks that need
// it, the welfare type's ceiling, programmes of the chosen type, the sex from the title, and a
// check-digit hint for the national ID.  The server checks everything again; this only helps.
"use strict";

const casesPage = {
  // "02/10/2558" (Buddhist era) → a Date, or null.
  parseBE(text) {
    const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec((text || "").trim());
    if (!m) { return null; }
    const day = Number(m[1]); const month = Number(m[2]); const year = Number(m[3]) - 543;
    const date = new Date(Date.UTC(year, month - 1, day));
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) { return null; }
    return date;
  },
  // Today in Bangkok (UTC+7, no daylight saving) as a UTC-midnight Date.
  bangkokToday() {
    const now = new Date(Date.now() + 7 * 3600 * 1000);
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  },
  age(birth, on) {
    let years = on.getUTCFullYear() - birth.getUTCFullYear();
    if (on.getUTCMonth() < birth.getUTCMonth()
        || (on.getUTCMonth() === birth.getUTCMonth() && on.getUTCDate() < birth.getUTCDate())) { years -= 1; }
    return years;
  },
  nationalIdOk(digits) {
    if (!/^\d{13}$/.test(digits)) { return false; }
    let sum = 0;
    for (let i = 0; i < 12; i += 1) { sum += Number(digits[i]) * (13 - i); }
    return (11 - (sum % 11)) % 10 === Number(digits[12]);
  },
};

function setupAge(form) {
  const birth = form.querySelector("[data-birth]");
  const age = form.querySelector("[data-age]");
  const note = form.querySelector("[data-age-note]");
  if (!birth || !age) { return; }
  const update = () => {
    const date = casesPage.parseBE(birth.value);
    const on = age.dataset.ageOn ? new Date(`${age.dataset.ageOn}T00:00:00Z`) : casesPage.bangkokToday();
    note.textContent = "";
    if (!birth.value.trim()) { age.value = ""; return; }
    if (!date) { age.value = ""; note.textContent = "รูปแบบวันที่ต้องเป็น วว/ดด/ปปปป (พ.ศ.)"; return; }
    if (date > on) { age.value = ""; note.textContent = "วันเกิดต้องไม่เกินวันนี้"; return; }
    age.value = String(casesPage.age(date, on));
  };
  birth.addEventListener("input", update);
  birth.addEventListener("change", update);
  update();
}

function setupBank(form) {
  const bank = form.querySelector("[data-bank]");
  const field = form.querySelector("[data-branch-field]");
  const branch = form.querySelector("[data-branch]");
  const code = form.querySelector("[data-bank-code]");
  if (!bank || !field || !branch) { return; }
  const update = () => {
    const option = bank.selectedOptions[0];
    const required = Boolean(option && option.dataset.branchRequired);
    const hasError = field.querySelector(".field-error") !== null;
    field.hidden = !(required || branch.value || hasError);
    branch.required = required;
    const label = field.querySelector(".label");
    label.querySelector(".req")?.remove();
    if (required) {
      const mark = document.createElement("abbr");
      mark.className = "req"; mark.title = "จำเป็น"; mark.textContent = " *";
      label.appendChild(mark);
    }
    if (code) { code.textContent = bank.value || "-"; }
  };
  bank.addEventListener("change", update);
  update();
}

function setupWelfareType(form) {
  const type = form.querySelector("[data-welfare-type]");
  const hint = form.querySelector("[data-ceiling-hint]");
  const programme = form.querySelector("[data-programme]");
  const programmeField = form.querySelector("[data-programme-field]");
  const house = form.querySelector("[data-house]");
  if (!type) { return; }
  const update = () => {
    const option = type.selectedOptions[0];
    if (hint) { hint.textContent = option && option.value ? option.dataset.ceiling : ""; }
    if (house) { house.required = Boolean(option && option.dataset.scope === "per_family_fy"); }
    if (programme) {
      let any = false;
      for (const item of programme.options) {
        if (!item.value) { continue; }
        const fits = item.dataset.welfareType === type.value;
        item.hidden = !fits; item.disabled = !fits;
        if (!fits && item.selected) { programme.value = ""; }
        any = any || fits;
      }
      if (programmeField) { programmeField.hidden = !any && !programme.value; }
    }
  };
  type.addEventListener("change", update);
  update();
}

function setupTitle(form) {
  const title = form.querySelector("[data-title]");
  const sex = form.querySelector("[data-sex]");
  if (!title || !sex) { return; }
  const sexOf = { "นาย": "male", "เด็กชาย": "male", "นาง": "female", "นางสาว": "female", "เด็กหญิง": "female" };
  title.addEventListener("change", () => { if (sexOf[title.value]) { sex.value = sexOf[title.value]; } });
}

function setupNationalId(form) {
  const input = form.querySelector("[data-national-id]");
  if (!input) { return; }
  const note = document.createElement("span");
  note.className = "warn";
  note.hidden = true;
  note.setAttribute("aria-live", "polite");
  input.insertAdjacentElement("afterend", note);
  input.addEventListener("input", () => {
    const digits = input.value.replace(/[\s-]/g, "");
    if (digits.length === 13 && /^\d+$/.test(digits) && !casesPage.nationalIdOk(digits)) {
      note.textContent = "เลขประจำตัวประชาชนไม่ถูกต้อง (เลขตรวจสอบหลักสุดท้ายไม่ตรง)";
      note.hidden = false;
    } else {
      note.textContent = "";
      note.hidden = true;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("[data-case-form]")) {
    // One click records once (the server also keys the request with the form's Idempotency-Key).
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) { button.disabled = true; }
    });
    window.addEventListener("pageshow", () => {  // back to this page (history cache): usable again
      for (const button of form.querySelectorAll("button[type=submit]")) { button.disabled = false; }
    });
    setupAge(form);
    setupBank(form);
    setupWelfareType(form);
    setupTitle(form);
  }
  for (const form of document.querySelectorAll("[data-check-form]")) { setupNationalId(form); }
});
