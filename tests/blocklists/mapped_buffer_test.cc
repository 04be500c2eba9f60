#include "blocklists/mapped_buffer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <utility>
#include <vector>

namespace dnsvagt {
namespace {

size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// A byte pattern that differs at neighbouring offsets and across pages.
uint8_t pattern_byte(size_t offset) { return static_cast<uint8_t>((offset * 131 + offset / 4099) ^ 0x5A); }

// The index of the first byte of `buffer` in [from, to) that is not pattern_byte, or `to`.
size_t first_mismatch(const MappedBuffer& buffer, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (buffer.data()[i] != pattern_byte(i)) return i;
  }
  return to;
}

TEST(MappedBuffer, EmptyHasNoMemory) {
  MappedBuffer buffer;
  EXPECT_EQ(buffer.data(), nullptr);
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.capacity(), 0u);
  const MappedBuffer& constant = buffer;
  EXPECT_EQ(constant.data(), nullptr);
}

TEST(MappedBuffer, AppendKeepsEarlierBytesAcrossGrowth) {
  MappedBuffer buffer;
  // Pieces of uneven sizes, so that growth happens in the middle of a piece, up to 6 MiB.
  const size_t total = 6 * 1024 * 1024 + 12345;
  std::vector<uint8_t> piece;
  size_t growths = 0;
  size_t last_capacity = 0;
  while (buffer.size() < total) {
    size_t count = std::min<size_t>(1000 + buffer.size() % 7919, total - buffer.size());
    piece.resize(count);
    for (size_t i = 0; i < count; ++i) piece[i] = pattern_byte(buffer.size() + i);
    size_t at = buffer.size();
    uint8_t* where = buffer.append(piece.data(), count);
    ASSERT_EQ(where, buffer.data() + at);
    ASSERT_EQ(buffer.size(), at + count);
    if (buffer.capacity() != last_capacity) ++growths;
    last_capacity = buffer.capacity();
  }
  EXPECT_GT(growths, 5u);  // it did grow (and remap) many times on the way
  EXPECT_EQ(buffer.size(), total);
  EXPECT_GE(buffer.capacity(), total);
  EXPECT_EQ(buffer.capacity() % page_size(), 0u);
  EXPECT_EQ(first_mismatch(buffer, 0, total), total);
}

TEST(MappedBuffer, ResizeKeepsEarlierBytesAndNewBytesAreZero) {
  MappedBuffer buffer;
  buffer.resize(100);
  for (size_t i = 0; i < 100; ++i) buffer.data()[i] = pattern_byte(i);
  const size_t big = 5 * 1024 * 1024 + 3;
  buffer.resize(big);
  ASSERT_EQ(buffer.size(), big);
  EXPECT_EQ(first_mismatch(buffer, 0, 100), 100u);
  size_t nonzero = 0;
  for (size_t i = 100; i < big; ++i) nonzero += buffer.data()[i] != 0;
  EXPECT_EQ(nonzero, 0u);
}

TEST(MappedBuffer, BytesBeyondAShrunkSizeReadAsZeroWhenGrownAgain) {
  MappedBuffer buffer;
  const size_t full = 3 * page_size() + 17;
  buffer.resize(full);
  for (size_t i = 0; i < full; ++i) buffer.data()[i] = pattern_byte(i) | 1;  // never zero
  const size_t capacity = buffer.capacity();
  const size_t kept = page_size() + 5;  // cut inside a page
  buffer.resize(kept);
  EXPECT_EQ(buffer.size(), kept);
  EXPECT_EQ(buffer.capacity(), capacity);  // shrinking keeps the mapping
  buffer.resize(full);                     // grows within the capacity: no new mapping
  EXPECT_EQ(buffer.capacity(), capacity);
  for (size_t i = 0; i < kept; ++i) ASSERT_EQ(buffer.data()[i], pattern_byte(i) | 1) << i;
  for (size_t i = kept; i < full; ++i) ASSERT_EQ(buffer.data()[i], 0) << i;
}

TEST(MappedBuffer, BytesBeyondASizeReadAsZeroAfterShrinkToFitAndGrowth) {
  MappedBuffer buffer;
  const size_t full = 8 * page_size();
  buffer.resize(full);
  for (size_t i = 0; i < full; ++i) buffer.data()[i] = 0xFF;
  const size_t kept = 2 * page_size() + 9;
  buffer.resize(kept);
  buffer.shrink_to_fit();
  ASSERT_EQ(buffer.capacity(), 3 * page_size());
  buffer.resize(full * 2);
  for (size_t i = 0; i < kept; ++i) ASSERT_EQ(buffer.data()[i], 0xFF) << i;
  for (size_t i = kept; i < full * 2; ++i) ASSERT_EQ(buffer.data()[i], 0) << i;
}

TEST(MappedBuffer, ShrinkToFitKeepsContentAndRoundsCapacityToPages) {
  MappedBuffer buffer;
  const size_t size = 2 * 1024 * 1024 + 1;  // one byte into a page
  for (size_t i = 0; i < size; i += 4096) {
    std::vector<uint8_t> piece(std::min<size_t>(4096, size - i));
    for (size_t k = 0; k < piece.size(); ++k) piece[k] = pattern_byte(i + k);
    buffer.append(piece.data(), piece.size());
  }
  ASSERT_EQ(buffer.size(), size);
  ASSERT_GT(buffer.capacity(), (size + page_size() - 1) / page_size() * page_size());
  buffer.shrink_to_fit();
  EXPECT_EQ(buffer.size(), size);
  EXPECT_EQ(buffer.capacity(), (size + page_size() - 1) / page_size() * page_size());
  EXPECT_EQ(first_mismatch(buffer, 0, size), size);
  buffer.shrink_to_fit();  // already fitting: nothing changes
  EXPECT_EQ(buffer.capacity(), (size + page_size() - 1) / page_size() * page_size());
  EXPECT_EQ(first_mismatch(buffer, 0, size), size);

  // Still growable after shrinking.
  const uint8_t tail[3] = {1, 2, 3};
  buffer.append(tail, 3);
  EXPECT_EQ(first_mismatch(buffer, 0, size), size);
  EXPECT_EQ(buffer.data()[size + 2], 3);
}

TEST(MappedBuffer, ShrinkToFitOfAnEmptiedBufferFreesIt) {
  MappedBuffer buffer;
  buffer.resize(10000);
  buffer.resize(0);
  buffer.shrink_to_fit();
  EXPECT_EQ(buffer.data(), nullptr);
  EXPECT_EQ(buffer.capacity(), 0u);
  const uint8_t byte = 7;
  buffer.append(&byte, 1);  // usable again
  ASSERT_NE(buffer.data(), nullptr);
  EXPECT_EQ(buffer.data()[0], 7);
  EXPECT_EQ(buffer.capacity(), page_size());
}

TEST(MappedBuffer, MoveConstructionTransfersOwnership) {
  MappedBuffer source;
  source.resize(3 * page_size());
  for (size_t i = 0; i < source.size(); ++i) source.data()[i] = pattern_byte(i);
  const uint8_t* data = source.data();
  const size_t capacity = source.capacity();

  MappedBuffer moved(std::move(source));
  EXPECT_EQ(moved.data(), data);
  EXPECT_EQ(moved.size(), 3 * page_size());
  EXPECT_EQ(moved.capacity(), capacity);
  EXPECT_EQ(first_mismatch(moved, 0, moved.size()), moved.size());
  EXPECT_EQ(source.data(), nullptr);  // NOLINT(bugprone-use-after-move): the contract
  EXPECT_EQ(source.size(), 0u);
  EXPECT_EQ(source.capacity(), 0u);
}

TEST(MappedBuffer, MoveAssignmentTransfersOwnershipAndFreesTheOld) {
  MappedBuffer source;
  source.resize(page_size() + 1);
  for (size_t i = 0; i < source.size(); ++i) source.data()[i] = pattern_byte(i);
  const uint8_t* data = source.data();

  MappedBuffer target;
  target.resize(5 * page_size());
  target = std::move(source);
  EXPECT_EQ(target.data(), data);
  EXPECT_EQ(target.size(), page_size() + 1);
  EXPECT_EQ(first_mismatch(target, 0, target.size()), target.size());
  EXPECT_EQ(source.data(), nullptr);  // NOLINT(bugprone-use-after-move): the contract
  EXPECT_EQ(source.size(), 0u);
  EXPECT_EQ(source.capacity(), 0u);

  // The moved-from buffer is usable again.
  const uint8_t byte = 9;
  source.append(&byte, 1);
  EXPECT_EQ(source.size(), 1u);
  EXPECT_EQ(source.data()[0], 9);

  // Self-assignment leaves it whole.
  MappedBuffer& alias = target;
  target = std::move(alias);
  EXPECT_EQ(target.data(), data);
  EXPECT_EQ(first_mismatch(target, 0, target.size()), target.size());
}

TEST(MappedBuffer, FailedGrowthThrowsAndKeepsTheContent) {
  MappedBuffer buffer;
  const uint8_t bytes[4] = {1, 2, 3, 4};
  buffer.append(bytes, 4);
  EXPECT_THROW(buffer.resize(size_t{1} << 62), std::bad_alloc);
  EXPECT_EQ(buffer.size(), 4u);
  EXPECT_EQ(buffer.data()[3], 4);
}

}  // namespace
}  // namespace dnsvagt
