#pragma once
// Counters and gauges, one copy per shard, merged when read.
//
// Every metric is declared once at start-up (before the shards run) in the process-wide
// metric_registry, which hands out a metric_id. Each shard owns a shard_metrics array indexed by
// that id and is the only writer of it, so an update is a plain load+store of a relaxed atomic
// (no locked instruction); a reader on any thread sums the shards' values with relaxed loads.
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction {

enum class metric_kind { counter, gauge };

struct metric_id {
  std::uint32_t index = 0;
};

class shard_metrics;

class metric_registry {
 public:
  // name: Prometheus metric name; labels: extra label pairs, e.g. R"(protocol="http")".
  // Shards size their arrays by this, so declarations may come in any order.
  static constexpr std::size_t capacity = 1024;

  metric_id add(std::string name, std::string help, metric_kind kind, std::string labels = {});
  std::size_t size() const { return metrics_.size(); }

  // Renders every metric of every shard in Prometheus text exposition format 0.0.4.
  std::string render_prometheus(std::span<const shard_metrics* const> shards) const;
  // The sum over all shards of one metric.
  std::uint64_t total(metric_id id, std::span<const shard_metrics* const> shards) const;

 private:
  struct metric {
    std::string name, help, labels;
    metric_kind kind;
  };
  std::vector<metric> metrics_;
};

class shard_metrics {
 public:
  explicit shard_metrics(std::size_t count);
  // Called only by the owning shard's thread.
  void add(metric_id id, std::uint64_t n = 1) noexcept {
    auto& v = values_[id.index];
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(metric_id id, std::uint64_t n = 1) noexcept {
    auto& v = values_[id.index];
    v.store(v.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  std::uint64_t get(metric_id id) const noexcept {
    return values_[id.index].load(std::memory_order_relaxed);
  }
  std::size_t size() const noexcept { return count_; }

 private:
  std::size_t count_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> values_;
};

// The counters every connection-oriented protocol keeps, labelled with its name.
struct connection_metrics {
  metric_id accepted, refused, active, bytes_in, bytes_out, errors, timeouts;
  static connection_metrics declare(metric_registry& registry, std::string_view protocol);
};

}  // namespace junction
