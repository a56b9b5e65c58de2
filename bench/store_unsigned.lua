-- mina_storePrivateCredential with a different credential on every request
-- (unsigned witness: identical credentials would dedupe, and signing is
-- measured separately). BATCH > 1 posts a JSON-RPC batch of that many stores.
local batch = tonumber(os.getenv("BATCH") or "1")
local prefix = os.getenv("RUN_ID") or "run"
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

local function store_call(n)
  return string.format(
    '{"jsonrpc":"2.0","id":%d,"method":"mina_storePrivateCredential","params":{"credential":' ..
    '{"version":"v0","witness":{"type":"unsigned"},"credential":{"owner":{"_type":"PublicKey",' ..
    '"value":"B62qpjxUpgdjzwQfd8q2gzxi99wN7SCgmofpvw27MBkfNHfHoY2VH32"},"data":{"nationality":"KR",' ..
    '"name":"zvCICx","serial":"%s-%d-%d","expiresAt":{"_type":"UInt64","value":"1777182333186"}}}}}}',
    n, prefix, thread_id, n)
end

function request()
  local calls = {}
  for i = 1, batch do
    counter = counter + 1
    calls[i] = store_call(counter)
  end
  local body = calls[1]
  if batch > 1 then body = "[" .. table.concat(calls, ",") .. "]" end
  return wrk.format("POST", "/", {["Content-Type"] = "application/json",
    ["Origin"] = "http://localhost:5173"}, body)
end
