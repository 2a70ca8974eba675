// Test helpers that write pickles and torch.save files byte by byte, following
// CPython's pickle opcodes and torch/serialization.py's layouts, so the
// readers can be tested on shapes, dtypes and damage that the fixtures lack.
// Used by pickle_test, torch_checkpoint_test and tensor_file_test.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "io/zip_writer.h"

namespace sagbench::testing {

// Appends pickle opcodes (protocol 2 unless raw bytes say otherwise).
class PickleBuilder {
 public:
  PickleBuilder& proto(int version = 2) { return op('\x80').byte(version); }
  PickleBuilder& op(char code) {
    out_ += code;
    return *this;
  }
  PickleBuilder& raw(const std::string& bytes) {
    out_ += bytes;
    return *this;
  }
  PickleBuilder& mark() { return op('('); }
  PickleBuilder& tuple() { return op('t'); }
  PickleBuilder& empty_tuple() { return op(')'); }
  PickleBuilder& empty_dict() { return op('}'); }
  PickleBuilder& empty_list() { return op(']'); }
  PickleBuilder& reduce() { return op('R'); }
  PickleBuilder& build() { return op('b'); }
  PickleBuilder& setitem() { return op('s'); }
  PickleBuilder& setitems() { return op('u'); }
  PickleBuilder& appends() { return op('e'); }
  PickleBuilder& stop() { return op('.'); }
  PickleBuilder& none() { return op('N'); }
  PickleBuilder& boolean(bool value) { return op(value ? '\x88' : '\x89'); }
  PickleBuilder& put(int index) { return op('q').byte(index); }
  PickleBuilder& get(int index) { return op('h').byte(index); }
  PickleBuilder& str(const std::string& text) { return op('X').le32(text.size()).raw(text); }
  PickleBuilder& global(const std::string& module, const std::string& name) {
    return op('c').raw(module + "\n" + name + "\n");
  }
  PickleBuilder& integer(std::int64_t value) {
    if (value >= 0 && value < 256) {
      return op('K').byte(static_cast<int>(value));
    }
    if (value >= INT32_MIN && value <= INT32_MAX) {
      return op('J').le32(static_cast<std::uint32_t>(value));
    }
    op('\x8a').byte(8);  // LONG1 with 8 little-endian bytes
    for (int i = 0; i < 8; ++i) {
      byte(static_cast<int>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff));
    }
    return *this;
  }
  PickleBuilder& int_tuple(const std::vector<std::int64_t>& values) {
    mark();
    for (std::int64_t v : values) {
      integer(v);
    }
    return tuple();
  }
  PickleBuilder& ordered_dict() { return global("collections", "OrderedDict").empty_tuple().reduce(); }
  const std::string& bytes() const { return out_; }

  PickleBuilder& byte(int value) {
    out_ += static_cast<char>(value);
    return *this;
  }
  PickleBuilder& le32(std::uint64_t value) {
    for (int i = 0; i < 4; ++i) {
      byte(static_cast<int>((value >> (8 * i)) & 0xff));
    }
    return *this;
  }

 private:
  std::string out_;
};

// One tensor of a hand-built checkpoint: a view of storage `key`.
struct TensorDecl {
  std::string name;
  std::string storage_type = "FloatStorage";
  std::string key;
  std::int64_t storage_numel = 0;
  std::int64_t offset = 0;
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> strides;
};

// torch._utils._rebuild_tensor_v2((pid), offset, sizes, strides, False, OrderedDict()).
// Legacy pids carry a sixth item, the view metadata (None here).
inline void add_tensor(PickleBuilder& p, const TensorDecl& t, bool legacy) {
  p.global("torch._utils", "_rebuild_tensor_v2").mark();
  p.mark().str("storage").global("torch", t.storage_type).str(t.key).str("cpu").integer(t.storage_numel);
  if (legacy) {
    p.none();
  }
  p.tuple().op('Q');
  p.integer(t.offset).int_tuple(t.sizes).int_tuple(t.strides).boolean(false).ordered_dict();
  p.tuple().reduce();
}

// The object pickle of a state dict (OrderedDict, or dict when !ordered).
inline std::string state_dict_pickle(const std::vector<TensorDecl>& tensors, bool legacy = false,
                                     bool ordered = true) {
  PickleBuilder p;
  p.proto();
  if (ordered) {
    p.ordered_dict();
  } else {
    p.empty_dict();
  }
  p.mark();
  for (const TensorDecl& t : tensors) {
    p.str(t.name);
    add_tensor(p, t, legacy);
  }
  return p.setitems().stop().bytes();
}

// The raw bytes of a tensor's storage.
inline std::string tensor_bytes(const at::Tensor& tensor) {
  at::Tensor c = tensor.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

using StorageBytes = std::vector<std::pair<std::string, std::string>>;  // key -> raw bytes

// A torch.save >= 1.6 zip: <archive>/data.pkl, <archive>/data/<key>, version.
inline void write_torch_zip(const std::string& path, const std::string& archive, const std::string& data_pkl,
                            const StorageBytes& storages) {
  io::ZipWriter zip(path);
  zip.add_entry(archive + "/data.pkl", data_pkl.data(), data_pkl.size());
  for (const auto& [key, bytes] : storages) {
    zip.add_entry(archive + "/data/" + key, bytes.data(), bytes.size());
  }
  zip.add_entry(archive + "/version", "3\n", 2);
  zip.finish();
}

// The legacy layout: magic, protocol, sys_info, object, keys, then per storage
// an int64 element count and the raw bytes. `numels[i]` is the count written
// for storages[i].
inline std::string legacy_file_bytes(const std::string& object_pkl, const StorageBytes& storages,
                                     const std::vector<std::int64_t>& numels) {
  PickleBuilder magic;
  magic.proto().raw(std::string("\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 12)).stop();
  PickleBuilder protocol;
  protocol.proto().integer(1001).stop();
  PickleBuilder sys_info;
  sys_info.proto().empty_dict().mark().str("protocol_version").integer(1001).str("little_endian");
  sys_info.boolean(true).setitems().stop();
  PickleBuilder keys;
  keys.proto().empty_list().mark();
  for (const auto& storage : storages) {
    keys.str(storage.first);
  }
  keys.appends().stop();
  std::string out = magic.bytes() + protocol.bytes() + sys_info.bytes() + object_pkl + keys.bytes();
  for (std::size_t i = 0; i < storages.size(); ++i) {
    for (int b = 0; b < 8; ++b) {
      out += static_cast<char>((static_cast<std::uint64_t>(numels[i]) >> (8 * b)) & 0xff);
    }
    out += storages[i].second;
  }
  return out;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace sagbench::testing
