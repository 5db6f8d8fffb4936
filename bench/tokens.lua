-- wrk script: GET /api/orders with a bearer token; TOKENS names a file of tokens, one a
-- line, used in turn (one line: the same token on every request).
local tokens = {}
local next_token = 1

function init(args)
  for line in io.lines(os.getenv("TOKENS")) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
end

function request()
  local token = tokens[next_token]
  next_token = next_token % #tokens + 1
  return wrk.format("GET", "/api/orders", { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
    wrk.thread:stop()
  end
end
