#include "blocklists/mapped_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

namespace dnsvagt {
namespace {

size_t page_size() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

size_t round_to_pages(size_t bytes) {
  return (bytes + page_size() - 1) / page_size() * page_size();
}

}  // namespace

MappedBuffer::~MappedBuffer() {
  if (data_ != nullptr) munmap(data_, capacity_);
}

MappedBuffer::MappedBuffer(MappedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

MappedBuffer& MappedBuffer::operator=(MappedBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, capacity_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void MappedBuffer::reserve(size_t capacity) {
  capacity = round_to_pages(capacity);
  if (capacity <= capacity_) return;
  void* mapped = data_ == nullptr
                     ? mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                     : mremap(data_, capacity_, capacity, MREMAP_MAYMOVE);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(mapped);
  capacity_ = capacity;
}

void MappedBuffer::resize(size_t size) {
  if (size > capacity_) reserve(std::max(size, capacity_ * 2));
  if (size < size_) std::memset(data_ + size, 0, size_ - size);  // so growing reads zeros
  size_ = size;
}

uint8_t* MappedBuffer::append(const uint8_t* bytes, size_t count) {
  size_t at = size_;
  resize(size_ + count);
  std::memcpy(data_ + at, bytes, count);
  return data_ + at;
}

void MappedBuffer::shrink_to_fit() {
  size_t needed = round_to_pages(size_);
  if (needed == capacity_) return;
  if (needed == 0) {
    munmap(data_, capacity_);
    data_ = nullptr;
  } else {
    void* mapped = mremap(data_, capacity_, needed, 0);
    if (mapped == MAP_FAILED) return;  // shrinking in place cannot fail; keep the pages if it does
    data_ = static_cast<uint8_t*>(mapped);
  }
  capacity_ = needed;
}

}  // namespace dnsvagt
