#pragma once
// FNV-1a, 64 bits (Fowler–Noll–Vo): a stable hash of a string, for names derived from names
// (MAC addresses, bridge identifiers) that must not change between runs or builds. Not for
// hash tables fed by clients (no seed secrecy).

#include <cstdint>
#include <string_view>

namespace vnet {

constexpr uint64_t kFnv1aOffsetBasis = 14695981039346656037ull;

constexpr uint64_t fnv1a(std::string_view s, uint64_t h = kFnv1aOffsetBasis) {
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace vnet
