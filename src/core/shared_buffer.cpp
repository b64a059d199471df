#include "core/shared_buffer.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace junction {

shared_buffer::block* shared_buffer::allocate(std::size_t size) {
  void* memory = std::malloc(offsetof(block, bytes) + std::max<std::size_t>(size, 1));
  if (!memory) throw std::bad_alloc{};
  auto* b = static_cast<block*>(memory);
  new (&b->refs) std::atomic<std::uint32_t>{1};
  b->size = size;
  return b;
}

shared_buffer shared_buffer::copy_of(std::span<const std::byte> bytes) {
  shared_buffer result{allocate(bytes.size())};
  if (!bytes.empty()) std::memcpy(result.block_->bytes, bytes.data(), bytes.size());
  return result;
}

void shared_buffer::release() noexcept {
  // acq_rel: the last owner must see every write made before other owners let go.
  if (block_ && block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) std::free(block_);
  block_ = nullptr;
}

}  // namespace junction
