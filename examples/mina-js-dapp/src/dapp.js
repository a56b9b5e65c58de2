// A dApp written against mina-js: finds the wallet announced as "pallad" with
// createStore(), connects, stores a credential, and checks every answer with
// @mina-js/providers' own schemas, as a mina-js dApp may.
import {
  AccountsRequestReturnSchema,
  MinaProviderInfoSchema,
  ProviderRpcErrorSchema,
  RequestAccountsRequestReturnSchema,
  StorePrivateCredentialReturnSchema,
} from "@mina-js/providers";
import { createStore } from "./connect-store.js";

const $ = (id) => document.getElementById(id);
const RETURN_SCHEMAS = {
  mina_accounts: AccountsRequestReturnSchema,
  mina_requestAccounts: RequestAccountsRequestReturnSchema,
  mina_storePrivateCredential: StorePrivateCredentialReturnSchema,
};

const store = createStore();
let provider = null;
let credential = null;

function showWallets(details) {
  const list = $("wallets");
  list.replaceChildren();
  for (const { info } of details) {
    const item = document.createElement("li");
    const valid = MinaProviderInfoSchema.safeParse(info).success;
    item.textContent = `${info.name} — slug "${info.slug}" (${info.rdns})${valid ? "" : " [info refused by mina-js]"}`;
    item.dataset.slug = info.slug;
    list.append(item);
  }
  const pallad = store.findProvider({ slug: "pallad" });
  if (pallad && provider === null) {
    provider = pallad.provider;
    $("wallet-name").textContent = pallad.info.name;
    $("wallet-icon").src = pallad.info.icon;
    $("wallet-icon").hidden = false;
    provider.on("accountsChanged", showAccounts);
    provider.request({ method: "mina_accounts" }).then(({ result }) => showAccounts(result), () => {});
    enableButtons();
  }
}

store.subscribe(showWallets, { emitImmediately: true });

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

function showAccounts(accounts) {
  $("account").textContent = accounts.length ? accounts[0] : "not connected";
}

function enableButtons() {
  const ready = provider !== null;
  $("connect").disabled = !ready;
  $("disconnect").disabled = !ready;
  $("store").disabled = !ready || credential === null;
}

// What mina-js's schemas say of an answer: the result's, or the error's.
function schemaVerdict(method, settled) {
  if (settled.state === "error") {
    const parsed = ProviderRpcErrorSchema.safeParse(settled.error);
    return { schema: "ProviderRpcErrorSchema", accepted: parsed.success };
  }
  const schema = RETURN_SCHEMAS[method];
  if (!schema) {
    return { schema: null, accepted: null };
  }
  const parsed = schema.safeParse({ method, result: settled.response.result });
  return { schema: `${method} return schema`, accepted: parsed.success };
}

// Asks the wallet; `window.lastAnswer` keeps what came back for the console.
async function ask(method, params) {
  const answer = $("answer");
  answer.dataset.state = "pending";
  answer.dataset.method = method;
  $("answer-title").textContent = `${method}…`;
  $("answer-body").hidden = true;
  $("verdict").textContent = "";
  let settled;
  try {
    const response = await provider.request(params === undefined ? { method } : { method, params });
    settled = { state: "ok", response };
  } catch (error) {
    settled = { state: "error", error };
  }
  const verdict = schemaVerdict(method, settled);
  window.lastAnswer = {
    ...(settled.state === "ok"
      ? { response: settled.response }
      : { error: { name: errorName(settled.error), code: settled.error.code, message: settled.error.message } }),
    verdict,
  };
  answer.dataset.state = settled.state;
  if (settled.state === "ok") {
    $("answer-title").textContent =
      method === "mina_storePrivateCredential" && settled.response.result.success
        ? "Stored. The wallet answered:"
        : `${method} answered:`;
    $("answer-body").textContent = JSON.stringify(settled.response, null, 2);
  } else {
    $("answer-title").textContent = `${method} failed: ${settled.error.code} ${settled.error.message}`;
    $("answer-body").textContent = JSON.stringify(window.lastAnswer.error, null, 2);
  }
  $("answer-body").hidden = false;
  $("verdict").dataset.accepted = String(verdict.accepted);
  $("verdict").textContent =
    verdict.schema === null
      ? "mina-js has no schema for this method."
      : `${verdict.accepted ? "✓ accepted" : "✗ refused"} by @mina-js/providers' ${verdict.schema}.`;
}

function errorName(error) {
  return error instanceof Error ? error.name : typeof error;
}

$("connect").addEventListener("click", () => ask("mina_requestAccounts"));
$("store").addEventListener("click", () => ask("mina_storePrivateCredential", [credential]));
$("disconnect").addEventListener("click", () => ask("wallet_revokePermissions"));
