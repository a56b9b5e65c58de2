// Wallet discovery with the interface of @mina-js/connect's createStore().
//
// A mina-js dApp writes `import { createStore } from "@mina-js/connect"`; that
// package is not on the registry this project installs from, so this module
// keeps its interface and its protocol, and the dApp code around it is the
// same: creating a store asks every wallet to announce itself
// ("mina:requestProvider"), and the store keeps the first announcement
// ("mina:announceProvider") of each slug. Wallets announce synchronously, so
// getProviders() right after createStore() already lists them.

export function createStore() {
  const listeners = new Set();
  let providerDetails = [];

  function onAnnounce(event) {
    const detail = event.detail;
    if (providerDetails.some(({ info }) => info.slug === detail.info.slug)) {
      return;
    }
    providerDetails = [...providerDetails, detail];
    for (const listener of listeners) {
      listener(providerDetails);
    }
  }

  function listen() {
    window.addEventListener("mina:announceProvider", onAnnounce);
    window.dispatchEvent(new CustomEvent("mina:requestProvider"));
    return () => window.removeEventListener("mina:announceProvider", onAnnounce);
  }

  let stopListening = listen();

  return {
    clear() {
      for (const listener of listeners) {
        listener([]);
      }
      providerDetails = [];
    },
    destroy() {
      this.clear();
      listeners.clear();
      stopListening();
    },
    findProvider({ slug }) {
      return providerDetails.find((detail) => detail.info.slug === slug);
    },
    getProviders() {
      return providerDetails;
    },
    reset() {
      this.clear();
      stopListening();
      stopListening = listen();
    },
    subscribe(listener, { emitImmediately } = {}) {
      listeners.add(listener);
      if (emitImmediately) {
        listener(providerDetails);
      }
      return () => listeners.delete(listener);
    },
  };
}
