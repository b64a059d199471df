#include "core/metrics.hpp"

#include <gtest/gtest.h>

namespace junction {
namespace {

TEST(metrics, sums_shards_and_renders_prometheus) {
  metric_registry registry;
  auto conns = connection_metrics::declare(registry, "http");
  auto plain = registry.add("junction_things_total", "Things.", metric_kind::counter);
  shard_metrics s0{metric_registry::capacity}, s1{metric_registry::capacity};
  s0.add(conns.accepted, 3);
  s1.add(conns.accepted, 4);
  s1.add(conns.active);
  s1.sub(conns.active);
  s0.add(plain);
  const shard_metrics* shards[] = {&s0, &s1};
  EXPECT_EQ(registry.total(conns.accepted, shards), 7u);
  EXPECT_EQ(registry.total(conns.active, shards), 0u);

  auto text = registry.render_prometheus(shards);
  EXPECT_NE(text.find("# TYPE junction_connections_accepted_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("junction_connections_accepted_total{protocol=\"http\",shard=\"0\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("junction_connections_accepted_total{protocol=\"http\",shard=\"1\"} 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE junction_connections_active gauge\n"), std::string::npos);
  EXPECT_NE(text.find("junction_things_total{shard=\"0\"} 1\n"), std::string::npos);
}

TEST(metrics, one_header_per_name_across_labels) {
  metric_registry registry;
  connection_metrics::declare(registry, "http");
  connection_metrics::declare(registry, "https");
  shard_metrics s0{metric_registry::capacity};
  const shard_metrics* shards[] = {&s0};
  auto text = registry.render_prometheus(shards);
  auto first = text.find("# HELP junction_connections_accepted_total");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(text.find("# HELP junction_connections_accepted_total", first + 1), std::string::npos);
  EXPECT_NE(text.find("protocol=\"https\""), std::string::npos);
}

TEST(metrics, registry_has_a_hard_capacity) {
  metric_registry registry;
  for (std::size_t i = 0; i < metric_registry::capacity; ++i)
    registry.add("m", "m", metric_kind::counter);
  EXPECT_THROW(registry.add("m", "m", metric_kind::counter), std::length_error);
}

}  // namespace
}  // namespace junction
