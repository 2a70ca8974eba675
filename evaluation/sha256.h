// SHA-256 (FIPS 180-4) of byte strings and files, streamed: weights hashes
// in metrics.json and the feature-cache keys. Tested by
// tests/evaluation/sha256_test.cpp (FIPS 180-4 example vectors).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sagbench::eval {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t bytes);
  void update(const std::string& text) { update(text.data(), text.size()); }
  // Lowercase hex digest; the object must not be updated afterwards.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

std::string sha256_hex(const std::string& bytes);
// Streams the file in 1 MiB chunks; an unreadable file is a kIo error naming it.
std::string sha256_file(const std::string& path);

}  // namespace sagbench::eval
