#pragma once
// An immutable, reference-counted byte buffer: the unit shards hand to each other. One allocation
// holds the count and the bytes; copies share it. The count is atomic because a copy may be
// released on another shard; the bytes never change after creation, so readers need no lock.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

namespace junction {

class shared_buffer {
 public:
  shared_buffer() noexcept = default;
  static shared_buffer copy_of(std::span<const std::byte> bytes);
  static shared_buffer copy_of(std::string_view text) {
    return copy_of(std::as_bytes(std::span{text.data(), text.size()}));
  }
  // A fresh buffer of `size` bytes written in place by `fill(std::span<std::byte>)` before anyone
  // else can see it: a serializer writes straight into the shared bytes, with no staging copy.
  // If `fill` throws, the memory is released and the exception propagates.
  template <class Fill>
  static shared_buffer build(std::size_t size, Fill&& fill) {
    shared_buffer result{allocate(size)};
    std::forward<Fill>(fill)(std::span<std::byte>{result.block_->bytes, size});
    return result;
  }

  shared_buffer(const shared_buffer& other) noexcept : block_{other.block_} { retain(); }
  shared_buffer(shared_buffer&& other) noexcept : block_{other.block_} { other.block_ = nullptr; }
  shared_buffer& operator=(shared_buffer other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~shared_buffer() { release(); }

  const std::byte* data() const noexcept { return block_ ? block_->bytes : nullptr; }
  std::size_t size() const noexcept { return block_ ? block_->size : 0; }
  bool empty() const noexcept { return size() == 0; }
  std::span<const std::byte> bytes() const noexcept { return {data(), size()}; }
  std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(data()), size()};
  }
  // How many shared_buffer objects refer to these bytes (for tests and diagnostics).
  std::uint32_t use_count() const noexcept {
    return block_ ? block_->refs.load(std::memory_order_relaxed) : 0;
  }

 private:
  struct block {
    std::atomic<std::uint32_t> refs;
    std::size_t size;
    std::byte bytes[1];
  };
  explicit shared_buffer(block* b) noexcept : block_{b} {}
  // One block with a count of 1 and `size` uninitialized bytes; throws std::bad_alloc.
  static block* allocate(std::size_t size);
  void retain() noexcept {
    if (block_) block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept;

  block* block_ = nullptr;
};

}  // namespace junction
