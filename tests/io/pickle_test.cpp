// Tests of the restricted unpickler (src/io/pickle.h): pickles written by
// CPython's pickle.dumps (protocols 2, 4, 5; bytes pasted below), the data.pkl
// of a fixture checkpoint, and hostile inputs (forbidden globals, unknown
// opcodes, truncation at every byte, huge lengths, exhausted bounds), each of
// which must raise kFormat naming the source, never crash or allocate wildly.
#include "io/pickle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/zip_reader.h"
#include "support/fixtures.h"
#include "torch_test_files.h"

namespace sagbench::io::pickle {
namespace {

using ::testing::HasSubstr;

template <std::size_t N>
std::string bytes_of(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// pickle.dumps({'a': 1, 'b': [1.5, None, True, False], 'c': ('x', -7, 2**40, -2**70)}, protocol=2)
const std::string kProtocol2 = bytes_of(
    "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x61\x71\x01\x4b\x01\x58\x01\x00\x00\x00\x62\x71\x02\x5d\x71"
    "\x03\x28\x47\x3f\xf8\x00\x00\x00\x00\x00\x00\x4e\x88\x89\x65\x58\x01\x00\x00\x00\x63\x71\x04\x28\x58\x01"
    "\x00\x00\x00\x78\x71\x05\x4a\xf9\xff\xff\xff\x8a\x06\x00\x00\x00\x00\x00\x01\x8a\x09\x00\x00\x00\x00\x00"
    "\x00\x00\x00\xc0\x74\x71\x06\x75\x2e");
// pickle.dumps(OrderedDict([('k', 3), ('j', 'v')]), protocol=4)
const std::string kProtocol4 = bytes_of(
    "\x80\x04\x95\x32\x00\x00\x00\x00\x00\x00\x00\x8c\x0b\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f\x6e\x73\x94\x8c"
    "\x0b\x4f\x72\x64\x65\x72\x65\x64\x44\x69\x63\x74\x94\x93\x94\x29\x52\x94\x28\x8c\x01\x6b\x94\x4b\x03\x8c"
    "\x01\x6a\x94\x8c\x01\x76\x94\x75\x2e");
// pickle.dumps({'b': b'abc', 'ba': bytearray(b'z'), 's': {1}, 'fs': frozenset([3])}, protocol=5)
const std::string kProtocol5 = bytes_of(
    "\x80\x05\x95\x33\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x28\x8c\x01\x62\x94\x43\x03\x61\x62\x63\x94\x8c\x02"
    "\x62\x61\x94\x96\x01\x00\x00\x00\x00\x00\x00\x00\x7a\x94\x8c\x01\x73\x94\x8f\x94\x28\x4b\x01\x90\x8c\x02"
    "\x66\x73\x94\x28\x4b\x03\x91\x94\x75\x2e");

UnpickleOptions options_for(const std::string& source) {
  UnpickleOptions options;
  options.source = source;
  return options;
}

Document parse(const std::string& bytes, const UnpickleOptions& options = options_for("test.pkl")) {
  return unpickle(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), options);
}

// Asserts a kFormat error whose message contains every fragment.
void expect_format_error(const std::string& bytes, const std::vector<std::string>& fragments,
                         const UnpickleOptions& options = options_for("evil.pkl")) {
  try {
    parse(bytes, options);
    FAIL() << "no error for a bad pickle";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(options.source));
    for (const std::string& fragment : fragments) {
      EXPECT_THAT(e.what(), HasSubstr(fragment));
    }
  }
}

const Value& entry(const Value& dict, const std::string& key) {
  for (const auto& [k, v] : dict.entries) {
    if (k->kind == ValueKind::kString && k->text == key) {
      return *v;
    }
  }
  throw std::runtime_error("no key " + key);
}

TEST(Pickle, Protocol2ScalarsAndContainers) {
  Document doc = parse(kProtocol2);
  const Value& root = doc.root();
  ASSERT_EQ(root.kind, ValueKind::kDict);
  EXPECT_FALSE(root.ordered);
  ASSERT_EQ(root.entries.size(), 3u);
  EXPECT_EQ(entry(root, "a").int_value, 1);
  const Value& list = entry(root, "b");
  ASSERT_EQ(list.kind, ValueKind::kList);
  ASSERT_EQ(list.items.size(), 4u);
  EXPECT_EQ(list.items[0]->float_value, 1.5);
  EXPECT_EQ(list.items[1]->kind, ValueKind::kNone);
  EXPECT_TRUE(list.items[2]->bool_value);
  EXPECT_EQ(list.items[3]->kind, ValueKind::kBool);
  EXPECT_FALSE(list.items[3]->bool_value);
  const Value& tuple = entry(root, "c");
  ASSERT_EQ(tuple.kind, ValueKind::kTuple);
  ASSERT_EQ(tuple.items.size(), 4u);
  EXPECT_EQ(tuple.items[0]->text, "x");
  EXPECT_EQ(tuple.items[1]->int_value, -7);
  EXPECT_EQ(tuple.items[2]->int_value, std::int64_t{1} << 40);
  EXPECT_EQ(tuple.items[3]->kind, ValueKind::kBigInt);  // -2**70 does not fit int64
  EXPECT_EQ(doc.end_offset(), kProtocol2.size());
}

TEST(Pickle, Protocol4FramesStackGlobalAndOrderedDict) {
  Document doc = parse(kProtocol4);
  const Value& root = doc.root();
  ASSERT_EQ(root.kind, ValueKind::kDict);
  EXPECT_TRUE(root.ordered);
  ASSERT_EQ(root.entries.size(), 2u);
  EXPECT_EQ(root.entries[0].first->text, "k");  // insertion order kept
  EXPECT_EQ(root.entries[0].second->int_value, 3);
  EXPECT_EQ(root.entries[1].second->text, "v");
}

TEST(Pickle, Protocol5BytesAndSets) {
  Document doc = parse(kProtocol5);
  const Value& root = doc.root();
  EXPECT_EQ(entry(root, "b").kind, ValueKind::kBytes);
  EXPECT_EQ(entry(root, "b").text, "abc");
  EXPECT_EQ(entry(root, "ba").text, "z");
  EXPECT_EQ(entry(root, "s").kind, ValueKind::kSet);
  EXPECT_EQ(entry(root, "s").items.size(), 1u);
  EXPECT_TRUE(entry(root, "fs").bool_value);  // frozen
}

TEST(Pickle, FixtureStateDictPickle) {
  ZipReader zip(testing::fixture_path("adm_tiny_uncond.pt"));
  const std::vector<std::uint8_t> pkl = zip.read_all("adm_tiny_uncond/data.pkl");
  std::vector<std::string> storage_keys;
  UnpickleOptions options = options_for("adm_tiny_uncond/data.pkl");
  options.persistent_load = [&](const Value& pid) {
    EXPECT_EQ(pid.kind, ValueKind::kTuple);
    storage_keys.push_back(pid.items.at(2)->text);
    return static_cast<std::int64_t>(storage_keys.size() - 1);
  };
  Document doc = unpickle(pkl.data(), pkl.size(), options);
  const Value& root = doc.root();
  ASSERT_EQ(root.kind, ValueKind::kDict);
  EXPECT_TRUE(root.ordered);
  EXPECT_EQ(root.entries.size(), 216u);  // len(state_dict) by Python's pickle
  EXPECT_EQ(storage_keys.size(), 216u);
  ASSERT_NE(root.state, nullptr);  // the state dict's _metadata, set by BUILD
  EXPECT_EQ(root.entries[0].first->text, "time_embed.0.weight");
  const Value& tensor = *root.entries[0].second;
  EXPECT_EQ(tensor.kind, ValueKind::kObject);
  EXPECT_EQ(tensor.text, "torch._utils._rebuild_tensor_v2");
  EXPECT_EQ(tensor.args->items.at(0)->kind, ValueKind::kPersistent);
  EXPECT_EQ(doc.end_offset(), pkl.size());
}

TEST(Pickle, SharedAndCyclicValuesAreSafe) {
  // l = []; l.append(l): EMPTY_LIST BINPUT 0 BINGET 0 APPEND STOP
  Document doc =
      parse(bytes_of("\x80\x02]q\x00h\x00"
                     "a."));
  const Value& list = doc.root();
  ASSERT_EQ(list.items.size(), 1u);
  EXPECT_EQ(list.items[0], &list);
}

TEST(Pickle, ForbiddenGlobalsAreRejected) {
  // pickle.dumps of os.system('echo hi') at protocol 0 and a protocol-4 STACK_GLOBAL of builtins.eval.
  expect_format_error(bytes_of("cos\nsystem\n(S'echo hi'\ntR."), {"os.system", "not allowed", "byte 0"});
  expect_format_error(bytes_of("\x80\x04\x8c\x08"
                               "builtins\x8c\x04"
                               "eval\x93."),
                      {"builtins.eval", "byte 18"});
  expect_format_error(bytes_of("\x80\x02"
                               "ctorch\nload\n."),
                      {"torch.load"});
  // A call of something that is not a global at all.
  expect_format_error(bytes_of("\x80\x02K\x01)R."), {"call of a non-global"});
}

TEST(Pickle, UnknownAndUnsupportedOpcodes) {
  expect_format_error(bytes_of("\x80\x02\xff."), {"unknown opcode", "0xff", "byte 2"});
  expect_format_error(bytes_of("\x80\x02(i__main__\nX\n."), {"INST"});
  expect_format_error(bytes_of("\x80\x02\x82\x01."), {"EXT1"});
  expect_format_error(bytes_of("\x80\x05\x97."), {"NEXT_BUFFER"});
  expect_format_error(bytes_of("\x80\x06N."), {"protocol 6"});
}

TEST(Pickle, EveryTruncationIsAnError) {
  for (std::size_t n = 0; n < kProtocol2.size(); ++n) {
    expect_format_error(kProtocol2.substr(0, n), {"truncated"});
  }
  for (std::size_t n = 0; n < kProtocol5.size(); ++n) {
    expect_format_error(kProtocol5.substr(0, n), {});
  }
}

TEST(Pickle, HugeDeclaredLengthsAllocateNothing) {
  expect_format_error(bytes_of("\x80\x02X\xff\xff\xff\xff"), {"declared length 4294967295"});
  expect_format_error(bytes_of("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f"
                               "abc"),
                      {"exceeds the 3 bytes left"});
  expect_format_error(bytes_of("\x80\x02\x8b\xff\xff\xff\x7f"), {"declared length"});
  expect_format_error(bytes_of("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\xffN."), {"frame"});
  expect_format_error(std::string("\x80\x02"
                                  "c",
                                  3) +
                          std::string(10000, 'a'),
                      {"longer than"});
}

TEST(Pickle, BoundsOnStackNodesAndMemo) {
  UnpickleOptions options = options_for("bounded.pkl");
  options.max_stack = 100;
  expect_format_error(std::string(200, 'N') + ".", {"stack deeper than 100"}, options);
  options = options_for("bounded.pkl");
  options.max_nodes = 100;
  expect_format_error(std::string(200, ']') + ".", {"more than 100 values"}, options);
  options = options_for("bounded.pkl");
  options.max_memo = 2;
  expect_format_error(bytes_of("N\x94\x94\x94."), {"memo larger than 2"}, options);
}

TEST(Pickle, MalformedStructure) {
  expect_format_error(bytes_of("\x80\x02."), {"empty stack"});
  expect_format_error(bytes_of("\x80\x02h\x05."), {"memo key 5"});
  expect_format_error(bytes_of("\x80\x02t."), {"no MARK"});
  expect_format_error(bytes_of("\x80\x02(0."), {"underflow"});
  expect_format_error(bytes_of("\x80\x02K\x00K\x01K\x02s."), {"SETITEM(S) on int 0"});
  expect_format_error(bytes_of("\x80\x02}(K\x01u."), {"odd number"});
  expect_format_error(bytes_of("\x80\x02K\x01}b."), {"BUILD on int"});
  expect_format_error(bytes_of("\x80\x02Ixyz\n."), {"bad integer literal 'xyz'"});
  expect_format_error(bytes_of("\x80\x02"
                               "ccollections\nOrderedDict\nK\x01\x85R."),
                      {"with arguments"});
}

TEST(Pickle, PersistentIdsNeedALoader) {
  const std::string bytes = bytes_of("\x80\x02X\x01\x00\x00\x00kQ.");
  expect_format_error(bytes, {"persistent id"});
  UnpickleOptions options = options_for("pid.pkl");
  options.persistent_load = [](const Value& pid) { return pid.text == "k" ? 42 : -1; };
  Document doc = parse(bytes, options);
  EXPECT_EQ(doc.root().kind, ValueKind::kPersistent);
  EXPECT_EQ(doc.root().int_value, 42);
}

TEST(Pickle, StopsAtStopSoPicklesCanBeConcatenated) {
  const std::string two = kProtocol2 + kProtocol4;
  MemoryInput in(reinterpret_cast<const std::uint8_t*>(two.data()), two.size());
  Document first = unpickle(in, options_for("two.pkl"));
  EXPECT_EQ(first.end_offset(), kProtocol2.size());
  Document second = unpickle(in, options_for("two.pkl"));
  EXPECT_TRUE(second.root().ordered);
  EXPECT_EQ(second.end_offset(), two.size());
}

TEST(Pickle, FileInputReportsMissingFiles) {
  try {
    FileInput in("/nonexistent/dir/file.pth");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/dir/file.pth"));
  }
}

}  // namespace
}  // namespace sagbench::io::pickle
