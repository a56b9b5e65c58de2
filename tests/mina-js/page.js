// The test page's mina-js: createStore() and @mina-js/providers' schemas, with
// settle(), which asks a provider and reports the answer and the schemas' verdict.
import {
  AccountsRequestReturnSchema,
  MinaProviderInfoSchema,
  ProviderRpcErrorSchema,
  RequestAccountsRequestReturnSchema,
  StorePrivateCredentialRequestParamsSchema,
  StorePrivateCredentialReturnSchema,
} from "@mina-js/providers";
import { createStore } from "../../examples/mina-js-dapp/src/connect-store.js";

const RETURN_SCHEMAS = {
  mina_accounts: AccountsRequestReturnSchema,
  mina_requestAccounts: RequestAccountsRequestReturnSchema,
  mina_storePrivateCredential: StorePrivateCredentialReturnSchema,
};

// What a test can compare: an Error's name, code, message, own enumerable keys and cause.
function describeError(error) {
  if (!(error instanceof Error)) {
    return { isError: false, value: error };
  }
  const described = {
    isError: true,
    name: error.name,
    code: error.code,
    message: error.message,
    keys: Object.keys(error),
  };
  if (error.cause !== undefined) {
    described.cause = error.cause instanceof Error ? { name: error.cause.name } : error.cause;
  }
  return described;
}

async function settle(slug, method, params) {
  const detail = window.minaStore.findProvider({ slug });
  const args = params === undefined ? { method } : { method, params };
  try {
    const response = await detail.provider.request(args);
    const schema = RETURN_SCHEMAS[method];
    const accepted =
      schema && response && typeof response === "object"
        ? schema.safeParse({ method, result: response.result }).success
        : null;
    return { settled: "resolved", response: response === undefined ? null : response, accepted };
  } catch (error) {
    return {
      settled: "rejected",
      error: describeError(error),
      accepted: ProviderRpcErrorSchema.safeParse(error).success,
    };
  }
}

window.minaStore = createStore();
window.minaJs = {
  createStore,
  settle,
  infoAccepted: (info) => MinaProviderInfoSchema.safeParse(info).success,
  storeParamsAccepted: (params) =>
    StorePrivateCredentialRequestParamsSchema.safeParse({
      method: "mina_storePrivateCredential",
      params,
    }).success,
};
