// A growable byte buffer in an anonymous mapping of its own, for the large arrays of a
// compiled policy: growing remaps pages instead of copying them, and freeing returns them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dnsvagt {

// Why not std::vector or std::string: a vector that doubles holds old and new copies at once
// and keeps up to twice the bytes it uses, and glibc keeps freed heap in the arena that
// allocated it (measured: resident memory stayed up to 15 MiB above a policy's own size after
// a swap). Here the memory resident is the bytes used, rounded up to pages, and munmap gives it
// back the moment a policy is destroyed.
class MappedBuffer {
 public:
  MappedBuffer() = default;
  ~MappedBuffer();
  MappedBuffer(MappedBuffer&& other) noexcept;
  MappedBuffer& operator=(MappedBuffer&& other) noexcept;
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Bytes of address space reserved; only the pages written to are resident.
  size_t capacity() const { return capacity_; }

  // Sets the size; bytes beyond the old size read as zero. Throws std::bad_alloc.
  void resize(size_t size);
  // Appends `count` bytes (not from this buffer: growing may move it); returns where they go.
  uint8_t* append(const uint8_t* bytes, size_t count);
  // Returns the pages beyond size() to the system.
  void shrink_to_fit();

 private:
  void reserve(size_t capacity);

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;  // a multiple of the page size
};

}  // namespace dnsvagt
