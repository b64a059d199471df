#include "sip/response.hpp"

namespace junction::sip {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 181: return "Call Is Being Forwarded";
    case 182: return "Queued";
    case 183: return "Session Progress";
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Notification";
    case 301: return "Moved Permanently";
    case 302: return "Moved Temporarily";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 412: return "Conditional Request Failed";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Unsupported URI Scheme";
    case 420: return "Bad Extension";
    case 423: return "Interval Too Brief";
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 489: return "Bad Event";
    case 491: return "Request Pending";
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 505: return "Version Not Supported";
    case 513: return "Message Too Large";
    case 603: return "Decline";
    default: return "";
  }
}

std::string make_response(const message& request, int status, const response_options& options) {
  std::string out;
  out.reserve(512 + options.body.size());
  std::string_view reason = options.reason.empty() ? reason_phrase(status) : options.reason;
  out.append("SIP/2.0 ").append(std::to_string(status)).append(" ").append(reason).append("\r\n");
  for (const auto& h : request.headers()) {
    switch (h.id) {
      case header_id::record_route:
        if (options.copy_record_route) out.append("Record-Route: ").append(h.value).append("\r\n");
        break;
      case header_id::via:
      case header_id::from:
      case header_id::call_id:
      case header_id::cseq:
        out.append(header_name(h.id)).append(": ").append(h.value).append("\r\n");
        break;
      case header_id::to: {
        out.append("To: ").append(h.value);
        if (status > 100 && !options.to_tag.empty()) {
          auto to = parse_address(h.value);
          if (to && to->tag().empty()) out.append(";tag=").append(options.to_tag);
        }
        out.append("\r\n");
        break;
      }
      default:
        break;
    }
  }
  for (const auto& [name, value] : options.headers)
    out.append(name).append(": ").append(value).append("\r\n");
  if (!options.body.empty() && !options.content_type.empty())
    out.append("Content-Type: ").append(options.content_type).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(options.body.size())).append("\r\n\r\n");
  out.append(options.body);
  return out;
}

}  // namespace junction::sip
