#include "core/metrics.hpp"

#include <fmt/format.h>

#include <map>
#include <stdexcept>

namespace junction {

metric_id metric_registry::add(std::string name, std::string help, metric_kind kind,
                               std::string labels) {
  if (metrics_.size() >= capacity) throw std::length_error("metric_registry: capacity reached");
  metrics_.push_back({std::move(name), std::move(help), std::move(labels), kind});
  return metric_id{static_cast<std::uint32_t>(metrics_.size() - 1)};
}

std::uint64_t metric_registry::total(metric_id id,
                                     std::span<const shard_metrics* const> shards) const {
  std::uint64_t sum = 0;
  for (const auto* s : shards) sum += s->get(id);
  return sum;
}

std::string metric_registry::render_prometheus(
    std::span<const shard_metrics* const> shards) const {
  // Group metrics that share a name (different labels) under one HELP/TYPE header, in the order
  // they were first declared.
  std::vector<std::string_view> order;
  std::map<std::string_view, std::vector<std::size_t>> by_name;
  for (std::size_t i = 0; i < metrics_.size(); ++i) {
    auto [it, inserted] = by_name.try_emplace(metrics_[i].name);
    if (inserted) order.push_back(metrics_[i].name);
    it->second.push_back(i);
  }
  fmt::memory_buffer out;
  for (auto name : order) {
    const auto& members = by_name[name];
    const auto& first = metrics_[members.front()];
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, first.help, name,
                   first.kind == metric_kind::counter ? "counter" : "gauge");
    for (auto index : members) {
      const auto& m = metrics_[index];
      for (std::size_t shard = 0; shard < shards.size(); ++shard) {
        auto value = shards[shard]->get(metric_id{static_cast<std::uint32_t>(index)});
        fmt::format_to(std::back_inserter(out), "{}{{{}{}shard=\"{}\"}} {}\n", name, m.labels,
                       m.labels.empty() ? "" : ",", shard, value);
      }
    }
  }
  return fmt::to_string(out);
}

shard_metrics::shard_metrics(std::size_t count)
    : count_{count}, values_{std::make_unique<std::atomic<std::uint64_t>[]>(count)} {
  for (std::size_t i = 0; i < count; ++i) values_[i].store(0, std::memory_order_relaxed);
}

connection_metrics connection_metrics::declare(metric_registry& r, std::string_view protocol) {
  auto label = fmt::format("protocol=\"{}\"", protocol);
  return {
      r.add("junction_connections_accepted_total", "Connections accepted.", metric_kind::counter,
            label),
      r.add("junction_connections_refused_total",
            "Connections refused because the connection limit was reached.",
            metric_kind::counter, label),
      r.add("junction_connections_active", "Connections open now.", metric_kind::gauge, label),
      r.add("junction_bytes_received_total", "Bytes read from clients.", metric_kind::counter,
            label),
      r.add("junction_bytes_sent_total", "Bytes written to clients.", metric_kind::counter, label),
      r.add("junction_protocol_errors_total",
            "Connections or requests ended by malformed or oversized input.",
            metric_kind::counter, label),
      r.add("junction_timeouts_total", "Connections closed by an idle, header or handshake timeout.",
            metric_kind::counter, label),
  };
}

}  // namespace junction
