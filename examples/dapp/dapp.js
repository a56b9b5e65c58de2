// The example dApp: finds a Mina wallet, connects, stores the Auro docs' example credential.
"use strict";

const $ = (id) => document.getElementById(id);
let wallet = null;
let credential = null;

// Discovery as Auro documents it: listen for announcements, then ask for them.
window.addEventListener("mina:announceProvider", (event) => {
  if (wallet !== null) {
    return;
  }
  wallet = event.detail.provider;
  const info = event.detail.info;
  $("wallet-name").textContent = `${info.name} (${info.rdns})`;
  $("wallet-icon").src = info.icon;
  $("wallet-icon").hidden = false;
  wallet.on("accountsChanged", (accounts) => {
    $("account").textContent = accounts.length ? accounts[0] : "not connected";
  });
  wallet.getAccounts().then(
    (accounts) => {
      $("account").textContent = accounts.length ? accounts[0] : "not connected";
    },
    () => {},
  );
  enableButtons();
});
window.dispatchEvent(new Event("mina:requestProvider"));

window.addEventListener("dapp:providerMissing", (event) => {
  $("wallet-name").textContent = `no wallet: could not load ${event.detail}`;
});

fetch("credential.json")
  .then((response) => response.json())
  .then((loaded) => {
    credential = loaded;
    $("credential").textContent = JSON.stringify(loaded, null, 2);
    enableButtons();
  });

function enableButtons() {
  const ready = wallet !== null;
  for (const id of ["connect", "disconnect", "store-broken"]) {
    $(id).disabled = !ready;
  }
  $("store").disabled = !ready || credential === null;
}

// Shows what the wallet answered; `window.lastAnswer` keeps it raw for the console.
async function ask(method, call) {
  const answer = $("answer");
  answer.dataset.state = "pending";
  answer.dataset.method = method;
  $("answer-title").textContent = `${method}…`;
  $("answer-body").hidden = true;
  for (const row of document.querySelectorAll("#error-codes tr")) {
    row.classList.remove("seen");
  }
  try {
    const result = await call();
    window.lastAnswer = { result };
    answer.dataset.state = "ok";
    showResult(method, result);
  } catch (error) {
    window.lastAnswer = { error };
    answer.dataset.state = "error";
    showError(method, error);
  }
}

function showResult(method, result) {
  if (method === "mina_storePrivateCredential" && result && typeof result.credential === "string") {
    $("answer-title").textContent = "Stored. The wallet answered with the credential as it stored it:";
    $("answer-body").textContent = JSON.stringify(JSON.parse(result.credential), null, 2);
  } else {
    $("answer-title").textContent = `${method} answered:`;
    $("answer-body").textContent = JSON.stringify(result, null, 2);
  }
  $("answer-body").hidden = false;
}

function showError(method, error) {
  if (typeof error?.code !== "number") {
    // The browser hides why: the wallet is down, or it does not allow this origin (CORS).
    $("answer-title").textContent =
      `${method}: no answer from the wallet (${error?.message ?? error}). ` +
      `Is it running, with ${location.origin} in [security] allowed_origins?`;
    return;
  }
  $("answer-title").textContent = `${method} failed: ${error.code} ${error.message}`;
  $("answer-body").textContent = JSON.stringify(error, null, 2);
  $("answer-body").hidden = false;
  const row = document.querySelector(`#error-codes tr[data-code="${error.code}"]`);
  if (row) {
    row.classList.add("seen");
    row.cells[2].textContent = error.message;
  }
}

$("connect").addEventListener("click", () =>
  ask("mina_requestAccounts", () => wallet.requestAccounts()),
);
$("store").addEventListener("click", () =>
  ask("mina_storePrivateCredential", () => wallet.storePrivateCredential({ credential })),
);
// Auro answers 20003 for a credential sent as a JSON string instead of an object.
$("store-broken").addEventListener("click", () =>
  ask("mina_storePrivateCredential", () =>
    wallet.storePrivateCredential({ credential: JSON.stringify(credential ?? {}) }),
  ),
);
$("disconnect").addEventListener("click", () =>
  ask("wallet_revokePermissions", () => wallet.revokePermissions()),
);
