wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "http://localhost:5173"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"mina_accounts"}'
