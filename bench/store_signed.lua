-- mina_storePrivateCredential with natively signed credentials, read one per
-- line from the file named by CREDENTIALS (made by bench/run.py), each once
-- per thread in turn.
local path = os.getenv("CREDENTIALS")
local bodies = {}
local next_index = 1
local thread_id = 0

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  for line in io.lines(path) do bodies[#bodies + 1] = line end
  next_index = 1 + (thread_id * 7919) % #bodies
end

function request()
  local body = bodies[next_index]
  next_index = next_index % #bodies + 1
  return wrk.format("POST", "/", {["Content-Type"] = "application/json",
    ["Origin"] = "http://localhost:5173"}, body)
end
