#pragma once
// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram to the socket
// NOTIFY_SOCKET names, when it is set (Type=notify units). "READY=1" once every listener is
// bound, "RELOADING=1" and "READY=1" around a reload, "STOPPING=1" when the drain begins.
#include <string_view>

namespace junction {

// Sends `state`; false when there is no NOTIFY_SOCKET or the send failed (nothing to do then).
bool sd_notify(std::string_view state);

}  // namespace junction
