#include "http/file_cache.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace junction::http {
namespace {
namespace fs = std::filesystem;

class file_cache_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("junction-cache-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& contents) {
    auto path = (dir_ / name).string();
    std::ofstream{path, std::ios::binary | std::ios::trunc} << contents;
    return path;
  }
  struct stat stat_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st;
  }
  fs::path dir_;
};

TEST_F(file_cache_test, serves_from_memory_until_the_file_changes) {
  file_cache cache{1024, 4096};
  auto path = write("a.txt", "first");
  auto one = cache.get(path, stat_of(path));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->text(), "first");
  auto two = cache.get(path, stat_of(path));
  EXPECT_EQ(two->data(), one->data());  // the same bytes, not re-read
  write("a.txt", "second, longer");
  auto three = cache.get(path, stat_of(path));
  EXPECT_EQ(three->text(), "second, longer");
  EXPECT_EQ(cache.entries(), 1u);
}

TEST_F(file_cache_test, large_files_are_not_cached) {
  file_cache cache{8, 4096};
  auto path = write("big.bin", std::string(9, 'x'));
  EXPECT_FALSE(cache.get(path, stat_of(path)));
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST_F(file_cache_test, evicts_least_recently_used_to_stay_in_budget) {
  file_cache cache{100, 250};
  auto a = write("a", std::string(100, 'a'));
  auto b = write("b", std::string(100, 'b'));
  auto c = write("c", std::string(100, 'c'));
  cache.get(a, stat_of(a));
  cache.get(b, stat_of(b));
  cache.get(a, stat_of(a));  // a is now more recent than b
  cache.get(c, stat_of(c));  // evicts b
  EXPECT_LE(cache.bytes(), 250u);
  EXPECT_EQ(cache.entries(), 2u);
}

}  // namespace
}  // namespace junction::http
