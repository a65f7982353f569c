// Central office pages: a user's district, province and agency fields apply only to the roles that
// take them (the gateway checks again and names the field if one does not fit).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-user-form]")) {
    const role = form.querySelector("select[data-role]");
    if (!role) { continue; }
    const scopes = [...form.querySelectorAll("[data-scope]")];
    const outside = form.querySelectorAll("optgroup[data-outside-bangkok]");
    const sync = () => {
      for (const scope of scopes) {
        const applies = scope.dataset.roles.split(" ").includes(role.value);
        const select = scope.querySelector("select");
        if (!applies) { select.value = ""; }
        select.disabled = !applies;
        scope.hidden = !applies;
      }
      // Only the welfare card district team works outside Bangkok's district offices.
      for (const group of outside) { group.disabled = role.value !== "district_team"; }
    };
    role.addEventListener("change", sync);
    sync();
  }
});
