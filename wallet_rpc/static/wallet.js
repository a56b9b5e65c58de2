// The wallet page: "Delete" asks first. Accepted, the form posts confirmed=yes;
// without JavaScript the server asks instead, on a confirmation step of the page.
(() => {
  "use strict";
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (window.confirm(form.dataset.confirm)) {
      form.elements.namedItem("confirmed").value = "yes";
    } else {
      event.preventDefault();
    }
  });
})();
