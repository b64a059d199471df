#pragma once
// The location service behind the registrar (RFC 3261 §10.3): for each address-of-record, the
// contacts it is reachable at, until when, and which REGISTER (Call-ID, CSeq) last touched them.
// Pure data and rules, no clock of its own: every call is told the time.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::sip {

using sip_clock = std::chrono::steady_clock;

struct binding {
  std::string contact;              // the Contact URI as registered
  std::string params;               // the Contact's other header params as sent (";+sip.instance=...")
  int q_milli = 1000;               // q-value times 1000 (RFC 3261 §20.10), 1000 when absent
  sip_clock::time_point expires_at;
  std::string call_id;
  std::uint32_t cseq = 0;
  std::vector<std::string> path;    // Path header values, top first (RFC 3327)
  std::string source;               // where the REGISTER came from: "udp 192.0.2.1:5060", ...
  std::uint64_t flow = 0;           // the connection it came on (stream transports), else 0
  std::chrono::system_clock::time_point registered_at;

  std::uint32_t seconds_left(sip_clock::time_point now) const noexcept;
};

struct expiry_policy {
  std::uint32_t min_seconds = 60;        // below this (and not 0): 423 Interval Too Brief
  std::uint32_t max_seconds = 3600;      // longer requests are cut to this
  std::uint32_t default_seconds = 3600;  // when neither the Contact nor an Expires header says
  // Bindings one AOR may have at once; a REGISTER that would add more gets 503 (as Kamailio's
  // max_contacts does). Every binding is a branch of each request for the AOR: without a cap,
  // one user could make the proxy fork one INVITE into thousands of datagrams.
  std::uint32_t max_bindings = 10;
};

// One Contact of a REGISTER, already parsed by the registrar.
struct contact_update {
  std::string uri;
  std::string params;                   // params to keep (not expires, not q)
  std::optional<std::uint32_t> expires; // the Contact's expires param
  int q_milli = 1000;
};

struct register_request {
  std::string_view aor;
  std::span<const contact_update> contacts;
  bool remove_all = false;                       // "Contact: *"
  std::optional<std::uint32_t> expires_header;   // the Expires header
  std::string_view call_id;
  std::uint32_t cseq = 0;
  std::span<const std::string> path;
  std::string_view source;
  std::uint64_t flow = 0;
  std::chrono::system_clock::time_point wall_time;  // for listings only
};

struct register_outcome {
  int status = 200;                 // 200, 400 ("*" misuse), 423, 500 (out of order), 503 (cap)
  std::string_view reason;
  std::uint32_t min_expires = 0;    // for 423's Min-Expires
};

class location_table {
 public:
  explicit location_table(expiry_policy policy = {}) : policy_(policy) {}

  // Applies a REGISTER's contacts (RFC 3261 §10.3 steps 6-8) all at once or not at all.
  // With no contacts it changes nothing (a query).
  register_outcome apply(const register_request& request, sip_clock::time_point now);

  // The live bindings of an AOR, highest q first.
  std::vector<binding> lookup(std::string_view aor, sip_clock::time_point now) const;
  // The same without copies: valid until the table next changes.
  std::vector<const binding*> live(std::string_view aor, sip_clock::time_point now) const;
  bool has_live(std::string_view aor, sip_clock::time_point now) const;

  // Forgets the bindings made over a connection that closed; returns how many went.
  std::size_t forget_flow(std::uint64_t flow);

  // Forgets expired bindings; returns how many went.
  std::size_t purge(sip_clock::time_point now);

  std::size_t aor_count() const noexcept { return aors_.size(); }
  std::size_t binding_count() const noexcept { return bindings_; }
  std::uint64_t refused_for_cap() const noexcept { return refused_; }  // REGISTERs past max_bindings
  const std::map<std::string, std::vector<binding>, std::less<>>& all() const noexcept { return aors_; }
  const expiry_policy& policy() const noexcept { return policy_; }

 private:
  register_outcome apply_to(const register_request& request, sip_clock::time_point now);

  expiry_policy policy_;
  std::map<std::string, std::vector<binding>, std::less<>> aors_;
  std::size_t bindings_ = 0;  // kept current, so the metrics gauge costs nothing to read
  std::uint64_t refused_ = 0;
};

}  // namespace junction::sip
