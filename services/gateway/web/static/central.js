// Central office pages: the district list only applies to district roles (officer, head, finance).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const CITY_WIDE = ["central_admin", "operator"];
  for (const form of document.querySelectorAll("form[data-user-form]")) {
    const role = form.querySelector("select[data-role]");
    const district = form.querySelector("select[data-district]");
    if (!role || !district) { continue; }
    const sync = () => {
      const cityWide = CITY_WIDE.includes(role.value);
      if (cityWide) { district.value = ""; }
      district.disabled = cityWide;
    };
    role.addEventListener("change", sync);
    sync();
  }
});
