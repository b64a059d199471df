-- Test-only Prosody module: the servers of the domains in `test_s2s_routes` are at fixed
-- addresses ({ ["junction.test"] = { "127.0.0.1", 40123 } }), as the tests have no DNS for them.
-- It replaces Prosody's SRV resolver for those domains only.
local service = require "net.resolvers.service";
local basic = require "net.resolvers.basic";

local routes = module:get_option("test_s2s_routes", {});
local original = service.new;
local nothing = { next = function(_, cb) cb(nil); end };

service.new = function(hostname, servicename, proto, extra)
	local route = routes[hostname];
	if route then
		if servicename == "xmpp-server" then
			return basic.new(route[1], route[2], proto, extra);
		end
		return setmetatable({}, { __index = nothing }); -- no direct TLS (xmpps-server) there
	end
	return original(hostname, servicename, proto, extra);
end

module:log("info", "s2s test routes: %d domain(s)", (function() local n = 0; for _ in pairs(routes) do n = n + 1; end return n; end)());
