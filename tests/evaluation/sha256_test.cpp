// Tests for evaluation/sha256.h against the FIPS 180-4 / NIST example digests.
#include "evaluation/sha256.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "support/fixtures.h"

namespace sagbench::eval {
namespace {

TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MillionAsInUnevenChunksAndFromFile) {
  const std::string a(1000000, 'a');
  const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  Sha256 h;
  for (std::size_t i = 0; i < a.size(); i += 77) {
    h.update(a.data() + i, std::min<std::size_t>(77, a.size() - i));
  }
  EXPECT_EQ(h.hex_digest(), expected);
  const std::string path = testing::make_temp_dir("sha256") + "/a.bin";
  std::ofstream(path, std::ios::binary) << a;
  EXPECT_EQ(sha256_file(path), expected);
  EXPECT_THROW(sha256_file(path + ".missing"), Error);
}

}  // namespace
}  // namespace sagbench::eval
