// numpy interop: /usr/bin/python3 with numpy reads what we write (npz in C
// order, npy in Fortran order, a streamed ZIP64 npz) and writes what we read
// (np.savez, np.savez_compressed with Fortran-order arrays, np.save), across
// every npy dtype. Both sides build the expected values from the same formula,
// so neither trusts the other's output. Skips when numpy is unavailable.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "io/npy.h"
#include "io/npz.h"
#include "support/fixtures.h"

namespace sagbench::io {
namespace {
using sagbench::testing::make_temp_dir;

constexpr char kPython[] = "/usr/bin/python3";

struct DtypeCode {
  at::ScalarType dtype;
  const char* code;  // numpy dtype code
};
const std::vector<DtypeCode> kDtypeCodes = {
    {at::kByte, "u1"}, {at::kChar, "i1"},  {at::kShort, "i2"},  {at::kInt, "i4"},  {at::kLong, "i8"},
    {at::kHalf, "f2"}, {at::kFloat, "f4"}, {at::kDouble, "f8"}, {at::kBool, "b1"},
};
const std::vector<std::int64_t> kShape = {3, 4, 5};
const std::vector<std::int64_t> kImagesShape = {30, 16, 16, 3};

// Must match make() in kScript.
at::Tensor make(at::ScalarType dtype, at::IntArrayRef shape) {
  at::Tensor base = at::arange(c10::multiply_integers(shape), at::kLong).reshape(shape);
  if (dtype == at::kBool) {
    return base.remainder(3).eq(1);
  }
  if (dtype == at::kByte) {
    return base.remainder(251).to(dtype);
  }
  return (base.remainder(97) - 40).to(dtype);
}

constexpr char kScript[] = R"PY(
import sys, zipfile
import numpy as np

d = sys.argv[1]
codes = sys.argv[2].split(',')
shape = (3, 4, 5)

def make(code, shape):
    base = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    if code == 'b1':
        return base % 3 == 1
    if code == 'u1':
        return (base % 251).astype(np.uint8)
    return ((base % 97) - 40).astype(code)

def check(a, code, shape, what):
    assert a.dtype == np.dtype(code), (what, a.dtype)
    assert a.shape == shape, (what, a.shape)
    assert np.array_equal(a, make(code, shape)), what

# Read what sagbench wrote.
for name in ('ours.npz', 'ours_zip64.npz'):
    assert zipfile.ZipFile(f'{d}/{name}').testzip() is None, name
with np.load(f'{d}/ours.npz') as ours:
    assert list(ours.keys()) == codes + ['arr_0'], list(ours.keys())
    for c in codes:
        check(ours[c], c, shape, 'ours.npz:' + c)
    check(ours['arr_0'], 'f4', (7,), 'ours.npz:arr_0')
for c in codes:
    a = np.load(f'{d}/ours_f_{c}.npy')
    assert a.flags.f_contiguous and not a.flags.c_contiguous, c
    check(a, c, shape, 'ours_f_' + c)
with np.load(f'{d}/ours_zip64.npz') as z:
    check(z['images'], 'u1', (30, 16, 16, 3), 'ours_zip64.npz:images')

# Write what sagbench must read.
np.savez(f'{d}/theirs.npz', *[make(c, shape) for c in codes])
np.savez_compressed(f'{d}/theirs_compressed.npz', **{c: np.asfortranarray(make(c, shape)) for c in codes})
for c in codes:
    np.save(f'{d}/theirs_f_{c}.npy', np.asfortranarray(make(c, shape)))
print('numpy interop OK')
)PY";

bool numpy_available() {
  return std::system((std::string(kPython) + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0;
}

TEST(NumpyInterop, NumpyReadsOursAndWeReadNumpys) {
  if (!numpy_available()) {
    GTEST_SKIP() << kPython << " with numpy is not available";
  }
  const std::string dir = make_temp_dir("numpy_interop");
  std::string codes;
  {
    NpzWriter writer(dir + "/ours.npz");
    for (const auto& [dtype, code] : kDtypeCodes) {
      writer.add(code, make(dtype, kShape));
      write_npy(dir + "/ours_f_" + code + ".npy", make(dtype, kShape), /*fortran_order=*/true);
      codes += (codes.empty() ? "" : ",") + std::string(code);
    }
    writer.add(make(at::kFloat, {7}));
    writer.finish();
  }
  {
    ZipWriterOptions options;
    options.force_zip64 = true;
    NpzWriter writer(dir + "/ours_zip64.npz", options);
    const at::Tensor images = make(at::kByte, kImagesShape);
    NpzArrayWriter stream = writer.begin_array("images", at::kByte, kImagesShape);
    for (std::int64_t start = 0; start < kImagesShape[0]; start += 8) {
      stream.append(images.slice(0, start, std::min<std::int64_t>(start + 8, kImagesShape[0])));
    }
    stream.finish();
    writer.finish();
  }
  const std::string script = dir + "/interop.py";
  std::ofstream(script) << kScript;
  const std::string command = std::string(kPython) + " " + script + " " + dir + " " + codes;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  NpzReader theirs(dir + "/theirs.npz");
  NpzReader compressed(dir + "/theirs_compressed.npz");
  ASSERT_EQ(theirs.names().size(), kDtypeCodes.size());
  for (std::size_t i = 0; i < kDtypeCodes.size(); ++i) {
    const auto& [dtype, code] = kDtypeCodes[i];
    SCOPED_TRACE(code);
    const at::Tensor expected = make(dtype, kShape);
    EXPECT_EQ(theirs.names()[i], savez_name(i));
    EXPECT_TRUE(at::equal(theirs.read(savez_name(i)), expected));
    EXPECT_TRUE(at::equal(theirs.read_rows(savez_name(i), 1, 2), expected.slice(0, 1, 3)));
    EXPECT_TRUE(compressed.header(code).fortran_order);
    EXPECT_TRUE(compressed.read(code).is_contiguous());
    EXPECT_TRUE(at::equal(compressed.read(code), expected));
    EXPECT_TRUE(at::equal(read_npy(dir + "/theirs_f_" + code + ".npy"), expected));
  }
}

}  // namespace
}  // namespace sagbench::io
