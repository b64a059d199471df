#include "sip/transaction.hpp"

#include <algorithm>

namespace junction::sip {
namespace {

std::optional<tx_clock::time_point> earliest(const std::optional<tx_clock::time_point>& a,
                                             const std::optional<tx_clock::time_point>& b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

bool due(const std::optional<tx_clock::time_point>& at, tx_clock::time_point now) {
  return at && *at <= now;
}

}  // namespace

// Server --------------------------------------------------------------------------------------

server_transaction::server_transaction(bool invite, bool reliable, const timer_values& timers)
    : invite_(invite), reliable_(reliable), timers_(timers),
      state_(invite ? tx_state::proceeding : tx_state::trying) {}

std::optional<tx_clock::time_point> server_transaction::deadline() const noexcept {
  return earliest(resend_at_, end_at_);
}

tx_effects server_transaction::on_retransmission() {
  tx_effects out;
  // Trying (non-INVITE, nothing sent yet) and Accepted (the TU, not the transaction, resends
  // 2xx: RFC 6026 §8.6) absorb it; otherwise the last response goes again.
  if (last_ && (state_ == tx_state::proceeding || state_ == tx_state::completed))
    out.send.push_back(last_);
  return out;
}

tx_effects server_transaction::on_ack(tx_clock::time_point now) {
  if (invite_ && state_ == tx_state::completed) {
    // Confirmed: absorb further ACKs for T4 (Timer I), then end.
    state_ = tx_state::confirmed;
    resend_at_.reset();
    end_at_ = now + (reliable_ ? std::chrono::milliseconds(0) : timers_.t4);
  }
  return {};
}

tx_effects server_transaction::respond(int status, shared_bytes bytes, tx_clock::time_point now) {
  tx_effects out;
  const bool final = status >= 200;
  if (state_ == tx_state::accepted) {
    if (status >= 200 && status < 300) out.send.push_back(std::move(bytes));
    return out;
  }
  if (state_ != tx_state::trying && state_ != tx_state::proceeding) return out;
  last_status_ = status;
  last_ = bytes;
  out.send.push_back(std::move(bytes));
  if (!final) {
    state_ = tx_state::proceeding;
    return out;
  }
  if (invite_ && status < 300) {
    state_ = tx_state::accepted;  // Timer L: absorb retransmitted INVITEs for 64*T1
    end_at_ = now + 64 * timers_.t1;
  } else if (invite_) {
    state_ = tx_state::completed;  // Timer G resends until the ACK, Timer H gives up
    if (!reliable_) {
      interval_ = timers_.t1;
      resend_at_ = now + interval_;
    }
    end_at_ = now + 64 * timers_.t1;
  } else {
    state_ = tx_state::completed;  // Timer J: answer retransmissions for 64*T1
    end_at_ = now + (reliable_ ? std::chrono::milliseconds(0) : 64 * timers_.t1);
  }
  return out;
}

tx_effects server_transaction::on_timer(tx_clock::time_point now) {
  tx_effects out;
  if (due(end_at_, now)) {
    // H without an ACK is a failure the TU hears of; I, J and L are quiet ends.
    out.timed_out = invite_ && state_ == tx_state::completed;
    state_ = tx_state::terminated;
    resend_at_.reset();
    end_at_.reset();
    return out;
  }
  if (due(resend_at_, now) && state_ == tx_state::completed && last_) {
    out.send.push_back(last_);
    interval_ = std::min(2 * interval_, timers_.t2);
    resend_at_ = now + interval_;
  }
  return out;
}

// Client --------------------------------------------------------------------------------------

client_transaction::client_transaction(bool invite, bool reliable, const timer_values& timers,
                                       shared_bytes request)
    : invite_(invite), reliable_(reliable), timers_(timers),
      state_(invite ? tx_state::calling : tx_state::trying), request_(std::move(request)) {}

std::optional<tx_clock::time_point> client_transaction::deadline() const noexcept {
  return earliest(resend_at_, end_at_);
}

tx_effects client_transaction::start(tx_clock::time_point now) {
  tx_effects out;
  out.send.push_back(request_);
  if (!reliable_) {
    interval_ = timers_.t1;  // Timer A (INVITE) or E (non-INVITE)
    resend_at_ = now + interval_;
  }
  end_at_ = now + 64 * timers_.t1;  // Timer B or F
  return out;
}

client_transaction::response_effects client_transaction::on_response(int status,
                                                                     tx_clock::time_point now) {
  response_effects r;
  const bool provisional = status < 200;
  if (invite_) {
    switch (state_) {
      case tx_state::calling:
      case tx_state::proceeding:
        resend_at_.reset();
        r.deliver = true;
        if (provisional) {
          state_ = tx_state::proceeding;
          end_at_.reset();  // once something answered, only the TU (CANCEL) ends the wait
        } else if (status < 300) {
          state_ = tx_state::accepted;  // Timer M: pass on 2xx from other forks for 64*T1
          end_at_ = now + 64 * timers_.t1;
        } else {
          state_ = tx_state::completed;  // Timer D: absorb retransmitted finals
          r.needs_ack = true;
          end_at_ = now + (reliable_ ? std::chrono::milliseconds(0) : std::chrono::milliseconds(32000));
        }
        break;
      case tx_state::accepted:
        r.deliver = status >= 200 && status < 300;
        break;
      case tx_state::completed:
        if (!provisional && ack_) r.effects.send.push_back(ack_);
        break;
      default:
        break;
    }
    return r;
  }
  switch (state_) {
    case tx_state::trying:
    case tx_state::proceeding:
      r.deliver = true;
      if (provisional) {
        state_ = tx_state::proceeding;
        if (!reliable_) {
          interval_ = timers_.t2;  // in Proceeding, E fires every T2
          resend_at_ = now + interval_;
        }
      } else {
        state_ = tx_state::completed;  // Timer K
        resend_at_.reset();
        end_at_ = now + (reliable_ ? std::chrono::milliseconds(0) : timers_.t4);
      }
      break;
    default:
      break;
  }
  return r;
}

tx_effects client_transaction::send_ack(shared_bytes ack) {
  ack_ = std::move(ack);
  tx_effects out;
  out.send.push_back(ack_);
  return out;
}

tx_effects client_transaction::on_timer(tx_clock::time_point now) {
  tx_effects out;
  if (due(end_at_, now)) {
    out.timed_out = state_ == tx_state::calling || state_ == tx_state::trying ||
                    (!invite_ && state_ == tx_state::proceeding);
    state_ = tx_state::terminated;
    resend_at_.reset();
    end_at_.reset();
    return out;
  }
  if (due(resend_at_, now) &&
      (state_ == tx_state::calling || state_ == tx_state::trying || state_ == tx_state::proceeding)) {
    out.send.push_back(request_);
    interval_ = invite_ ? 2 * interval_ : std::min(2 * interval_, timers_.t2);
    resend_at_ = now + interval_;
  }
  return out;
}

}  // namespace junction::sip
