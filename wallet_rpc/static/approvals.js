// The approval page: how long each waiting request has left.
(() => {
  "use strict";
  const countdown = () => {
    for (const left of document.querySelectorAll(".left[data-expires]")) {
      const seconds = Math.max(0, Math.round((Number(left.dataset.expires) - Date.now()) / 1000));
      left.textContent = "(" + seconds + " s left)";
    }
  };
  countdown();
  setInterval(countdown, 1000);
  document.addEventListener("live:updated", countdown);
})();
