/*
 * wallet-rpc in the browser: the wallet-rpc server this script was loaded from,
 * offered to the page as two providers, one per dialect of the Mina provider API.
 *
 *   <script src="http://127.0.0.1:8787/provider.js"></script>
 *
 * `window.mina` (slug "wallet-rpc") speaks Auro Wallet's dialect:
 * request({method, params}) posts one JSON-RPC 2.0 call to that server and
 * resolves with its `result`, or rejects with its `error` object
 * ({code, message, data?}) exactly as the server answered it. A call that
 * never got a JSON-RPC answer (the browser refused it, the server is down or
 * answered with an HTTP error) rejects with an Error instead.
 *
 * The provider announced with slug "pallad" speaks Pallad's dialect, the one
 * mina-js (@mina-js/connect, @mina-js/providers) expects: request() resolves
 * with {jsonrpc: "2.0", result}, a stored credential answers {success: true},
 * and errors are Error objects with EIP-1193 codes.
 */
(() => {
  "use strict";

  const LOADED = Symbol.for("wallet-rpc.provider");
  if (window[LOADED]) {
    return; // a second copy of the tag must not announce the provider twice
  }
  window[LOADED] = true;

  const SCRIPT_NAME = "provider.js";
  const STORE_METHOD = "mina_storePrivateCredential";
  const ICON_SVG =
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96">' +
    '<rect width="96" height="96" rx="22" fill="#17325c"/>' +
    '<path d="M22 66V30l13 20 13-20 13 20 13-20v36" fill="none" stroke="#fff" ' +
    'stroke-width="8" stroke-linecap="round" stroke-linejoin="round"/></svg>';
  const ICON = "data:image/svg+xml," + encodeURIComponent(ICON_SVG);
  const INFO = Object.freeze({
    name: "wallet-rpc",
    slug: "wallet-rpc",
    // wallet-rpc has no domain of its own; ".local" names cannot be registered.
    rdns: "local.wallet-rpc",
    icon: ICON,
  });
  // mina-js's MinaProviderInfoSchema is strict: exactly these four keys.
  const PALLAD_INFO = Object.freeze({
    name: "wallet-rpc (Pallad API)",
    slug: "pallad",
    rdns: "local.wallet-rpc.pallad",
    icon: ICON,
  });

  // document.currentScript is null in a module script or when this runs late;
  // then the tag that loaded us is the last one naming provider.js.
  function ownScriptUrl() {
    const current = document.currentScript;
    if (current && current.src) {
      return current.src;
    }
    const tags = document.querySelectorAll("script[src]");
    for (let index = tags.length - 1; index >= 0; index -= 1) {
      const url = new URL(tags[index].src, document.baseURI);
      if (url.pathname.endsWith("/" + SCRIPT_NAME)) {
        return url.href;
      }
    }
    return null;
  }

  const scriptUrl = ownScriptUrl();
  if (scriptUrl === null) {
    console.error("wallet-rpc: cannot tell which server provider.js came from");
    return;
  }
  // "./" keeps a path prefix: a server behind https://host/wallet/ answers there.
  const endpoint = new URL("./", scriptUrl).href;

  // The rule of CredentialsContainer.store(): a frame never stores credentials.
  const inFrame = (() => {
    try {
      return window.self !== window.top;
    } catch {
      return true;
    }
  })();

  let nextId = 1;

  async function call(method, params) {
    const message = { jsonrpc: "2.0", id: nextId, method: method };
    nextId += 1;
    // JSON-RPC has no null params; a page passing null means "none", as Auro reads it.
    if (params !== undefined && params !== null) {
      message.params = params;
    }
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(message),
      credentials: "omit",
      cache: "no-store",
    });
    if (response.status !== 200) {
      const text = (await response.text()).trim();
      const error = new Error(`wallet-rpc answered HTTP ${response.status}: ${text}`);
      error.status = response.status;
      throw error;
    }
    const answer = await response.json();
    if (Object.prototype.hasOwnProperty.call(answer, "error")) {
      throw answer.error;
    }
    return answer.result;
  }

  // Each provider keeps its own listeners; on() and removeListener() return the provider.
  function createEvents(owner) {
    const listeners = new Map();
    return {
      on(eventName, listener) {
        if (!listeners.has(eventName)) {
          listeners.set(eventName, new Set());
        }
        listeners.get(eventName).add(listener);
        return owner();
      },
      removeListener(eventName, listener) {
        const registered = listeners.get(eventName);
        if (registered) {
          registered.delete(listener);
        }
        return owner();
      },
      emit(eventName, value) {
        for (const listener of Array.from(listeners.get(eventName) || [])) {
          try {
            listener(value);
          } catch (error) {
            // One failing listener must not keep the others or the caller from their answer.
            setTimeout(() => {
              throw error;
            });
          }
        }
      },
    };
  }

  const auroEvents = createEvents(() => provider);
  const palladEvents = createEvents(() => palladProvider);

  // What the page last learnt of its accounts, through either provider: both
  // speak for the same origin, so both hear of a change. It starts out not connected.
  let knownAccounts = "[]";

  function noteAccounts(method, result) {
    const accountMethods = ["mina_requestAccounts", "mina_accounts", "wallet_revokePermissions"];
    if (!accountMethods.includes(method) || !Array.isArray(result)) {
      return;
    }
    const accounts = JSON.stringify(result);
    if (accounts !== knownAccounts) {
      knownAccounts = accounts;
      auroEvents.emit("accountsChanged", result.slice());
      palladEvents.emit("accountsChanged", result.slice());
    }
  }

  function request(args) {
    const method = args ? args.method : undefined;
    const params = args ? args.params : undefined;
    if (method === STORE_METHOD && inFrame) {
      return Promise.resolve(undefined);
    }
    return call(method, params).then((result) => {
      noteAccounts(method, result);
      return result;
    });
  }

  function byName(method) {
    return (params) => request({ method: method, params: params });
  }

  // Auro Wallet's convenience methods; those wallet-rpc does not serve get -32601.
  const provider = {
    isAuro: true,
    isWalletRpc: true,
    request: request,
    on: auroEvents.on,
    removeListener: auroEvents.removeListener,
    off: auroEvents.removeListener,
    requestAccounts: () => request({ method: "mina_requestAccounts" }),
    getAccounts: () => request({ method: "mina_accounts" }),
    getWalletInfo: () => request({ method: "wallet_info" }),
    revokePermissions: () => request({ method: "wallet_revokePermissions" }),
    storePrivateCredential: byName(STORE_METHOD),
    requestPresentation: byName("mina_requestPresentation"),
    requestNetwork: () => request({ method: "mina_requestNetwork" }),
    switchChain: byName("mina_switchChain"),
    addChain: byName("mina_addChain"),
    sendPayment: byName("mina_sendPayment"),
    sendStakeDelegation: byName("mina_sendStakeDelegation"),
    sendTransaction: byName("mina_sendTransaction"),
    signMessage: byName("mina_signMessage"),
    verifyMessage: byName("mina_verifyMessage"),
    signFields: byName("mina_signFields"),
    verifyFields: byName("mina_verifyFields"),
    signJsonMessage: byName("mina_sign_JsonMessage"),
    verifyJsonMessage: byName("mina_verify_JsonMessage"),
    createNullifier: byName("mina_createNullifier"),
  };

  // Pallad's dialect. Its errors are EIP-1193's, with the exact messages that
  // @mina-js/providers' ProviderRpcErrorSchema accepts.
  const EIP1193 = Object.freeze({
    userRejected: [4001, "User Rejected Request"],
    unauthorized: [4100, "Unauthorized"],
    unsupportedMethod: [4200, "Unsupported Method"],
    disconnected: [4900, "Disconnected"],
  });
  const EIP1193_FOR_SERVER_CODE = new Map([
    [1002, EIP1193.userRejected], // the user rejected the request
    [1001, EIP1193.unauthorized], // the origin is not connected
    [23001, EIP1193.unauthorized], // the origin is not allowed
    [-32601, EIP1193.unsupportedMethod], // the server does not serve the method
  ]);

  // ProviderRpcErrorSchema is strict: an own enumerable key other than `code`
  // and `message` fails it, so `name` lives on the prototype and the server's
  // own error rides along as the (non-enumerable) `cause`.
  class ProviderRpcError extends Error {
    constructor(code, message, cause) {
      super(message, cause === undefined ? undefined : { cause: cause });
      this.code = code;
    }

    get name() {
      return "ProviderRpcError";
    }
  }

  function palladError(failure) {
    if (failure instanceof Error) {
      if (typeof failure.status === "number") {
        // An HTTP error: its status is the code, the server's words the message.
        const error = new ProviderRpcError(failure.status, failure.message, failure);
        error.status = failure.status;
        return error;
      }
      // The browser got no answer: the server is down, or refused this origin (CORS).
      return new ProviderRpcError(...EIP1193.disconnected, failure);
    }
    const mapped = EIP1193_FOR_SERVER_CODE.get(failure.code);
    if (mapped) {
      return new ProviderRpcError(...mapped, failure);
    }
    const error = new ProviderRpcError(failure.code, failure.message, failure);
    if (failure.data !== undefined) {
      error.data = failure.data;
    }
    return error;
  }

  function palladRequest(args) {
    const method = args ? args.method : undefined;
    if (method === STORE_METHOD && inFrame) {
      // Nothing is sent; a mina-js dApp reads `success` and learns nothing was stored.
      return Promise.resolve({ jsonrpc: "2.0", result: { success: false } });
    }
    return request(args).then(
      (result) => ({
        jsonrpc: "2.0",
        result: method === STORE_METHOD ? { success: true } : result,
      }),
      (failure) => {
        throw palladError(failure);
      },
    );
  }

  const palladProvider = {
    isPallad: true,
    isWalletRpc: true,
    request: palladRequest,
    on: palladEvents.on,
    removeListener: palladEvents.removeListener,
    off: palladEvents.removeListener, // Pallad's own provider names it off
  };

  function announce() {
    for (const [info, announced] of [
      [INFO, provider],
      [PALLAD_INFO, palladProvider],
    ]) {
      window.dispatchEvent(
        new CustomEvent("mina:announceProvider", {
          detail: Object.freeze({ info: info, provider: announced }),
        }),
      );
    }
  }

  window.mina = provider;
  window.addEventListener("mina:requestProvider", announce);
  announce();
})();
