#pragma once
// One siprtmp client's line: what a connection to rtmp://host/<app>/<user>@<domain> becomes.
// It registers the user (with Junction's registrar for its own domains, else with the domain's
// SIP server), turns the client's NetConnection calls (invite, accept, reject, bye, sendDTMF,
// hold) into SIP through its user agent (sip/ua), calls the client back (invited, ringing,
// accepted, rejected, cancelled, byed, dtmf, holding, held), and runs the call's legs: what they
// carry is decided by call_media (pure), and call_legs runs them. One call at a time per line.
//
// A line outlives its RTMP connection by as long as hanging up and unregistering take.
#include <memory>

#include "rtmp/app_handler.hpp"

namespace junction::gateway {

class service;

// The handler the RTMP server makes for each connection to the gateway's application.
std::unique_ptr<rtmp::app_handler> make_line(service& svc, rtmp::client_link& link);

}  // namespace junction::gateway
