#include "core/shared_buffer.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace junction {
namespace {

TEST(shared_buffer, copies_bytes_and_shares_them) {
  auto a = shared_buffer::copy_of(std::string_view{"hello"});
  EXPECT_EQ(a.text(), "hello");
  EXPECT_EQ(a.use_count(), 1u);
  auto b = a;
  EXPECT_EQ(b.data(), a.data());  // shared, not copied
  EXPECT_EQ(a.use_count(), 2u);
  auto c = std::move(b);
  EXPECT_EQ(a.use_count(), 2u);
  EXPECT_TRUE(b.empty());
}

TEST(shared_buffer, empty_buffer) {
  shared_buffer none;
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.use_count(), 0u);
  auto zero = shared_buffer::copy_of(std::string_view{});
  EXPECT_TRUE(zero.empty());
  EXPECT_EQ(zero.use_count(), 1u);
}

TEST(shared_buffer, build_fills_in_place) {
  std::byte* seen = nullptr;
  auto built = shared_buffer::build(5, [&](std::span<std::byte> bytes) {
    ASSERT_EQ(bytes.size(), 5u);
    seen = bytes.data();
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = std::byte{static_cast<unsigned char>('a' + i)};
  });
  EXPECT_EQ(built.text(), "abcde");
  EXPECT_EQ(built.data(), seen);  // written where it is shared, no copy
  EXPECT_EQ(built.use_count(), 1u);

  auto empty =
      shared_buffer::build(0, [](std::span<std::byte> bytes) { EXPECT_TRUE(bytes.empty()); });
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.use_count(), 1u);
}

TEST(shared_buffer, build_releases_when_fill_throws) {
  // Under ASan a leak here fails the run.
  auto throwing = [](std::span<std::byte>) { throw std::runtime_error{"fill failed"}; };
  EXPECT_THROW(shared_buffer::build(16, throwing), std::runtime_error);
}

TEST(shared_buffer, released_from_many_threads) {
  auto original = shared_buffer::copy_of(std::string_view{"payload"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([copy = original] {
      for (int i = 0; i < 10000; ++i) {
        shared_buffer again = copy;
        ASSERT_EQ(again.text(), "payload");
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(original.use_count(), 1u);
}

}  // namespace
}  // namespace junction
