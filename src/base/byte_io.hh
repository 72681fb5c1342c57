#pragma once
// ByteReader / ByteWriter: the only place where bytes meet network byte order.
//
// ByteReader reads big-endian fields from a span and never reads past its end: a read that would
// overrun sets failed() and returns 0, so a decoder checks once after reading a header and reports
// "truncated: need N bytes, have M". ByteWriter appends to a std::vector or writes into a fixed
// span.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace vnet {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}
  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool failed() const { return failed_; }
  bool has(size_t n) const { return remaining() >= n; }

  uint8_t u8() {
    if (!take(1)) return 0;
    return data_[pos_ - 1];
  }
  uint16_t u16() {
    if (!take(2)) return 0;
    return static_cast<uint16_t>(data_[pos_ - 2] << 8 | data_[pos_ - 1]);
  }
  uint32_t u32() {
    if (!take(4)) return 0;
    const uint8_t* p = &data_[pos_ - 4];
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
  }
  // A view of the next n bytes (empty and failed() when fewer remain).
  std::span<const uint8_t> bytes(size_t n) {
    if (!take(n)) return {};
    return data_.subspan(pos_ - n, n);
  }
  void copy(uint8_t* out, size_t n) {
    auto b = bytes(n);
    if (!b.empty()) std::memcpy(out, b.data(), n);
  }
  void skip(size_t n) { take(n); }
  std::span<const uint8_t> rest() const { return data_.subspan(pos_); }

 private:
  bool take(size_t n) {
    if (remaining() < n) {
      failed_ = true;
      pos_ = data_.size();
      return false;
    }
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(&out) {}
  void u8(uint8_t v) { out_->push_back(v); }
  void u16(uint16_t v) {
    out_->push_back(static_cast<uint8_t>(v >> 8));
    out_->push_back(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void bytes(std::span<const uint8_t> b) { out_->insert(out_->end(), b.begin(), b.end()); }
  void zeros(size_t n) { out_->insert(out_->end(), n, 0); }
  size_t size() const { return out_->size(); }
  // Overwrite a 16-bit field already written (lengths and checksums).
  void patch_u16(size_t offset, uint16_t v) {
    (*out_)[offset] = static_cast<uint8_t>(v >> 8);
    (*out_)[offset + 1] = static_cast<uint8_t>(v);
  }
  std::vector<uint8_t>& buffer() { return *out_; }

 private:
  std::vector<uint8_t>* out_;
};

// Unaligned big-endian helpers for the datapath, which works on frame bytes in place.
inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  store_be16(p, static_cast<uint16_t>(v >> 16));
  store_be16(p + 2, static_cast<uint16_t>(v));
}

}  // namespace vnet
