// Keeps a page's <main id="live"> current without a reload. Every few
// hundred milliseconds it asks the page's JSON state whether anything changed
// (If-None-Match: the tag of what is shown; 304 while nothing did); when
// something did, it swaps in the <main> of a fresh copy of the page, keeping
// the keyboard focus where it was. Without JavaScript the page works by
// reloading instead.
(() => {
  "use strict";
  const live = () => document.getElementById("live");
  const start = live();
  if (!start || !start.dataset.state) return;
  const every = Number(start.dataset.pollMs) || 1000;
  let busy = false;

  const refresh = async () => {
    const main = live();
    if (busy || !main || !main.dataset.state) return;
    busy = true;
    try {
      const state = await fetch(main.dataset.state, {
        cache: "no-store",
        headers: {"If-None-Match": main.dataset.etag},
      });
      if (state.status !== 200) return;
      const page = await fetch(main.dataset.page, {cache: "no-store"});
      if (!page.ok) return;
      const fresh = new DOMParser().parseFromString(await page.text(), "text/html");
      const replacement = fresh.getElementById("live");
      if (!replacement) return;
      const focused = document.activeElement && main.contains(document.activeElement)
        ? document.activeElement.id : "";
      main.replaceWith(replacement);
      document.title = fresh.title;
      if (focused) document.getElementById(focused)?.focus();
      document.dispatchEvent(new CustomEvent("live:updated"));
    } catch (error) {
      // The server may be restarting; the next round tries again.
    } finally {
      busy = false;
    }
  };
  setInterval(refresh, every);
})();
