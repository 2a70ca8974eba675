// torch.save readers (see torch_checkpoint.h). Both formats share one model:
// the object pickle is parsed by the restricted unpickler; its persistent ids
// declare storages (dtype, key, element count, legacy views), and its
// _rebuild_tensor_v2 calls declare tensors (storage, offset, sizes, strides).
// Every tensor's extent is checked against its storage, and every storage
// against the archive entry or the file, before any tensor data are read.
#include "io/torch_checkpoint.h"

#include <algorithm>
#include <map>
#include <optional>

#include "core/error.h"
#include "io/pickle.h"
#include "io/zip_reader.h"

namespace sagbench::io {
namespace {

using pickle::Value;
using pickle::ValueKind;

// torch.serialization's MAGIC_NUMBER 0x1950a86a20f9469cfc6c, little-endian.
constexpr std::uint8_t kLegacyMagic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::int64_t kLegacyProtocol = 1001;
constexpr int kMaxNesting = 32;                           // dicts within dicts
constexpr std::size_t kMaxVisits = std::size_t{1} << 20;  // bounds walks of shared (DAG) values
constexpr std::int64_t kMaxDims = 64;
constexpr std::int64_t kMaxStorageNumel = std::int64_t{1} << 58;  // bytes stay below 2^62
constexpr std::int64_t kCopySlackBytes = std::int64_t{64} << 20;
constexpr std::uint64_t kMaxPickleBytes = std::uint64_t{256} << 20;

std::optional<at::ScalarType> storage_dtype(const std::string& global) {
  static const std::map<std::string, at::ScalarType> types = {
      {"torch.FloatStorage", at::kFloat},       {"torch.HalfStorage", at::kHalf},
      {"torch.BFloat16Storage", at::kBFloat16}, {"torch.DoubleStorage", at::kDouble},
      {"torch.LongStorage", at::kLong},         {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},       {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},         {"torch.BoolStorage", at::kBool},
  };
  auto it = types.find(global);
  return it == types.end() ? std::nullopt : std::optional<at::ScalarType>(it->second);
}

// A storage as saved: raw data of `numel` elements under `key`.
struct StorageRoot {
  std::string key;
  at::ScalarType dtype = at::kFloat;
  std::int64_t numel = 0;
  at::Tensor data;  // 1-D, filled when the data are read
};

// What a persistent id resolves to: a window of a root storage (legacy views).
struct StorageView {
  std::size_t root = 0;
  std::int64_t offset = 0;
  std::int64_t numel = 0;
};

struct TensorSpec {
  std::string name;
  std::size_t view = 0;
  std::int64_t offset = 0;
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> strides;
};

// The storages and tensors declared by one object pickle.
class CheckpointModel {
 public:
  CheckpointModel(std::string source, bool legacy) : source_(std::move(source)), legacy_(legacy) {}

  pickle::PersistentLoader loader() {
    return [this](const Value& pid) { return load_pid(pid); };
  }
  void collect_root(const Value& root) {
    SAG_REQUIRE(root.kind == ValueKind::kDict, kFormat,
                "{}: the checkpoint holds {}, not a dict of tensors (a state dict)", source_,
                pickle::describe(root));
    collect(root, "", 0);
    SAG_REQUIRE(!tensors_.empty(), kFormat, "{}: the checkpoint holds no tensors", source_);
  }

  const std::string& source() const { return source_; }
  std::vector<StorageRoot>& roots() { return roots_; }
  const std::vector<StorageView>& views() const { return views_; }
  const std::vector<TensorSpec>& tensors() const { return tensors_; }
  const StorageRoot* find_root(const std::string& key) const {
    auto it = root_index_.find(key);
    return it == root_index_.end() ? nullptr : &roots_[it->second];
  }
  StorageRoot& root_of(const TensorSpec& spec) { return roots_[views_[spec.view].root]; }

 private:
  std::int64_t int_arg(const Value& value, const std::string& what) const {
    SAG_REQUIRE(value.kind == ValueKind::kInt, kFormat, "{}: {} is {}, not an int", source_, what,
                pickle::describe(value));
    return value.int_value;
  }

  // ('storage', <torch.XStorage>, key, location, numel[, view_metadata]).
  std::int64_t load_pid(const Value& pid) {
    const std::size_t arity = legacy_ ? 6 : 5;
    SAG_REQUIRE(pid.kind == ValueKind::kTuple && pid.items.size() == arity &&
                    pid.items[0]->kind == ValueKind::kString && pid.items[0]->text == "storage",
                kFormat, "{}: persistent id is {}, not a {}-tuple ('storage', ...)", source_,
                pickle::describe(pid), arity);
    const Value& type = *pid.items[1];
    const Value& key = *pid.items[2];
    SAG_REQUIRE(key.kind == ValueKind::kString, kFormat, "{}: storage key is {}", source_,
                pickle::describe(key));
    std::optional<at::ScalarType> dtype;
    if (type.kind == ValueKind::kGlobal) {
      dtype = storage_dtype(type.text);
    }
    SAG_REQUIRE(dtype.has_value(), kFormat, "{}: storage '{}' has unsupported type {}", source_, key.text,
                pickle::describe(type));
    const std::int64_t numel = int_arg(*pid.items[4], "the element count of storage '" + key.text + "'");
    SAG_REQUIRE(numel >= 0 && numel <= kMaxStorageNumel, kFormat, "{}: storage '{}' declares {} elements",
                source_, key.text, numel);

    auto [it, added] = root_index_.emplace(key.text, roots_.size());
    if (added) {
      roots_.push_back(StorageRoot{key.text, *dtype, numel, {}});
    }
    const StorageRoot& root = roots_[it->second];
    SAG_REQUIRE(root.dtype == *dtype && root.numel == numel, kFormat,
                "{}: storage '{}' is declared twice with different types or sizes", source_, key.text);

    StorageView view{it->second, 0, numel};
    if (legacy_ && pid.items[5]->kind != ValueKind::kNone) {  // (view_key, offset, view_size)
      const Value& meta = *pid.items[5];
      SAG_REQUIRE(meta.kind == ValueKind::kTuple && meta.items.size() == 3, kFormat,
                  "{}: storage '{}' has view metadata {}", source_, key.text, pickle::describe(meta));
      view.offset = int_arg(*meta.items[1], "a storage view offset");
      view.numel = int_arg(*meta.items[2], "a storage view size");
      SAG_REQUIRE(
          view.offset >= 0 && view.numel >= 0 && view.offset <= numel && view.numel <= numel - view.offset,
          kFormat, "{}: view [{}, +{}) of storage '{}' exceeds its {} elements", source_, view.offset,
          view.numel, key.text, numel);
    }
    views_.push_back(view);
    return static_cast<std::int64_t>(views_.size() - 1);
  }

  void collect(const Value& value, const std::string& name, int depth) {
    SAG_REQUIRE(depth <= kMaxNesting, kFormat, "{}: containers nested deeper than {} at '{}'", source_,
                kMaxNesting, name);
    SAG_REQUIRE(++visits_ <= kMaxVisits, kFormat, "{}: more than {} values to visit (shared containers?)",
                source_, kMaxVisits);
    auto child = [&](const std::string& key) { return name.empty() ? key : name + "." + key; };
    switch (value.kind) {
      case ValueKind::kDict:
        for (const auto& [key, item] : value.entries) {
          SAG_REQUIRE(key->kind == ValueKind::kString || key->kind == ValueKind::kInt, kFormat,
                      "{}: dict key {} under '{}' is neither a string nor an int", source_,
                      pickle::describe(*key), name);
          collect(*item, child(key->kind == ValueKind::kString ? key->text : std::to_string(key->int_value)),
                  depth + 1);
        }
        return;
      case ValueKind::kList:
      case ValueKind::kTuple:
        for (std::size_t i = 0; i < value.items.size(); ++i) {
          collect(*value.items[i], child(std::to_string(i)), depth + 1);
        }
        return;
      case ValueKind::kObject:
        tensors_.push_back(tensor_spec(value, name, 0));
        return;
      case ValueKind::kNone:
      case ValueKind::kBool:
      case ValueKind::kInt:
      case ValueKind::kBigInt:
      case ValueKind::kFloat:
      case ValueKind::kString:
      case ValueKind::kBytes:
        return;  // metadata beside the tensors (epoch, step, ...)
      default:
        SAG_FAIL(kFormat, "{}: '{}' holds {}, not a tensor", source_, name, pickle::describe(value));
    }
  }

  TensorSpec tensor_spec(const Value& object, const std::string& name, int depth) {
    SAG_REQUIRE(depth < 4 && object.kind == ValueKind::kObject, kFormat, "{}: tensor '{}' is built from {}",
                source_, name, pickle::describe(object));
    return call_spec(object.text, *object.args, name, depth);
  }

  std::vector<std::int64_t> int_tuple(const Value& value, const std::string& name, const char* what) const {
    SAG_REQUIRE(value.kind == ValueKind::kTuple && static_cast<std::int64_t>(value.items.size()) <= kMaxDims,
                kFormat, "{}: tensor '{}': {} is {}, not a tuple of at most {} ints", source_, name, what,
                pickle::describe(value), kMaxDims);
    std::vector<std::int64_t> out;
    for (const Value* item : value.items) {
      out.push_back(int_arg(*item, fmt::format("tensor '{}': an entry of its {}", name, what)));
    }
    return out;
  }

  TensorSpec call_spec(const std::string& func, const Value& args, const std::string& name, int depth) {
    const auto& items = args.items;
    if (func == "torch._utils._rebuild_tensor_v2" || func == "torch._utils._rebuild_tensor") {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      SAG_REQUIRE(items.size() >= 4 && items[0]->kind == ValueKind::kPersistent, kFormat,
                  "{}: tensor '{}': {} needs (storage, offset, size, stride)", source_, name, func);
      TensorSpec spec;
      spec.name = name;
      spec.view = static_cast<std::size_t>(items[0]->int_value);
      spec.offset = int_arg(*items[1], "the storage offset of tensor '" + name + "'");
      spec.sizes = int_tuple(*items[2], name, "size");
      spec.strides = int_tuple(*items[3], name, "stride");
      check_extent(spec);
      return spec;
    }
    if (func == "torch._utils._rebuild_parameter" || func == "torch._utils._rebuild_parameter_with_state") {
      SAG_REQUIRE(!items.empty(), kFormat, "{}: tensor '{}': {} without data", source_, name, func);
      return tensor_spec(*items[0], name, depth + 1);
    }
    if (func == "torch._tensor._rebuild_from_type_v2") {  // (func, new_type, args, state)
      SAG_REQUIRE(items.size() >= 3 && items[0]->kind == ValueKind::kGlobal &&
                      items[1]->kind == ValueKind::kGlobal && items[2]->kind == ValueKind::kTuple &&
                      (items[1]->text == "torch.Tensor" || items[1]->text == "torch.nn.parameter.Parameter"),
                  kFormat, "{}: tensor '{}': unsupported _rebuild_from_type_v2 call", source_, name);
      SAG_REQUIRE(depth < 4, kFormat, "{}: tensor '{}': rebuild calls nested too deeply", source_, name);
      return call_spec(items[0]->text, *items[2], name, depth + 1);
    }
    SAG_FAIL(kFormat, "{}: '{}' is built by '{}', not a tensor", source_, name, func);
  }

  // offset + sum((size_i - 1) * stride_i) must lie inside the storage view;
  // materialising never needs more elements than the view holds.
  void check_extent(const TensorSpec& spec) const {
    const std::int64_t limit = views_.at(spec.view).numel;
    SAG_REQUIRE(spec.sizes.size() == spec.strides.size(), kFormat,
                "{}: tensor '{}' has {} sizes but {} strides", source_, spec.name, spec.sizes.size(),
                spec.strides.size());
    SAG_REQUIRE(spec.offset >= 0 && spec.offset <= limit, kFormat,
                "{}: tensor '{}' starts at element {}, outside its storage of {}", source_, spec.name,
                spec.offset, limit);
    bool empty = false;
    for (std::size_t d = 0; d < spec.sizes.size(); ++d) {
      SAG_REQUIRE(spec.sizes[d] >= 0 && spec.strides[d] >= 0, kFormat,
                  "{}: tensor '{}' has size {} and stride {} in dim {}", source_, spec.name, spec.sizes[d],
                  spec.strides[d], d);
      empty = empty || spec.sizes[d] == 0;
    }
    if (empty) {
      return;  // no element is read
    }
    std::int64_t numel = 1;
    std::int64_t last = spec.offset;  // storage index of the last element
    for (std::size_t d = 0; d < spec.sizes.size(); ++d) {
      const std::int64_t size = spec.sizes[d];
      const std::int64_t stride = spec.strides[d];
      SAG_REQUIRE(numel <= limit / size, kFormat,
                  "{}: tensor '{}' ({}) has more elements than its storage of {}", source_, spec.name,
                  fmt::join(spec.sizes, "x"), limit);
      numel *= size;
      SAG_REQUIRE(stride == 0 || size - 1 <= (limit - last) / stride, kFormat,
                  "{}: tensor '{}' (offset {}, sizes {}, strides {}) reaches past its storage of {} elements",
                  source_, spec.name, spec.offset, fmt::join(spec.sizes, "x"), fmt::join(spec.strides, ","),
                  limit);
      last += (size - 1) * stride;
    }
    SAG_REQUIRE(last < limit, kFormat, "{}: tensor '{}' at offset {} reaches past its storage of {} elements",
                source_, spec.name, spec.offset, limit);
  }

  std::string source_;
  bool legacy_;
  std::vector<StorageRoot> roots_;
  std::map<std::string, std::size_t> root_index_;
  std::vector<StorageView> views_;
  std::vector<TensorSpec> tensors_;
  std::size_t visits_ = 0;
};

std::vector<TensorInfo> infos_of(CheckpointModel& model) {
  std::vector<TensorInfo> out;
  for (const TensorSpec& spec : model.tensors()) {
    out.push_back(TensorInfo{spec.name, model.root_of(spec).dtype, spec.sizes});
  }
  return out;
}

// Builds the dict once every referenced root's data is loaded. Contiguous
// views share their storage; strided ones are copied, in all at most twice the
// storage bytes plus kCopySlackBytes, so hostile views cannot multiply memory.
TensorDict tensors_of(CheckpointModel& model) {
  std::int64_t storage_bytes = 0;
  for (const StorageRoot& root : model.roots()) {
    storage_bytes += root.numel * static_cast<std::int64_t>(at::elementSize(root.dtype));
  }
  std::int64_t copied_bytes = 0;
  TensorDict dict;
  for (const TensorSpec& spec : model.tensors()) {
    const StorageRoot& root = model.root_of(spec);
    const std::int64_t base = model.views()[spec.view].offset;
    at::Tensor tensor = root.data.as_strided(spec.sizes, spec.strides, base + spec.offset);
    if (!tensor.is_contiguous()) {
      copied_bytes += tensor.numel() * static_cast<std::int64_t>(tensor.element_size());
      SAG_REQUIRE(copied_bytes <= 2 * storage_bytes + kCopySlackBytes, kFormat,
                  "{}: strided tensors up to '{}' need {} bytes of copies, more than twice the file's {} "
                  "storage bytes",
                  model.source(), spec.name, copied_bytes, storage_bytes);
      tensor = tensor.contiguous();
    }
    dict.insert(spec.name, tensor, model.source());
  }
  return dict;
}

std::vector<bool> referenced_roots(CheckpointModel& model) {
  std::vector<bool> used(model.roots().size(), false);
  for (const TensorSpec& spec : model.tensors()) {
    used[model.views()[spec.view].root] = true;
  }
  return used;
}

// --- zip container -----------------------------------------------------------

// The archive's top folder: the one entry "<name>/data.pkl".
std::string archive_prefix(const ZipReader& zip) {
  std::string prefix;
  for (const ZipEntryInfo& entry : zip.entries()) {
    const std::string& name = entry.name;
    const std::size_t slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      SAG_REQUIRE(prefix.empty(), kFormat, "{}: several data.pkl entries ('{}data.pkl', '{}')", zip.path(),
                  prefix, name);
      prefix = name.substr(0, slash + 1);
    }
  }
  SAG_REQUIRE(!prefix.empty(), kFormat, "{}: not a torch checkpoint: no '<archive>/data.pkl' entry",
              zip.path());
  return prefix;
}

CheckpointModel parse_zip(const ZipReader& zip, std::string& prefix) {
  prefix = archive_prefix(zip);
  if (const ZipEntryInfo* order = zip.find(prefix + "byteorder")) {
    const std::vector<std::uint8_t> bytes = zip.read_all(order->name, 16);
    SAG_REQUIRE(std::string(bytes.begin(), bytes.end()) == "little", kFormat,
                "{}: big-endian checkpoints are not supported", zip.path());
  }
  CheckpointModel model(zip.path() + ":" + prefix + "data.pkl", false);
  const std::vector<std::uint8_t> pkl = zip.read_all(prefix + "data.pkl", kMaxPickleBytes);
  pickle::UnpickleOptions options;
  options.source = model.source();
  options.persistent_load = model.loader();
  pickle::Document doc = pickle::unpickle(pkl.data(), pkl.size(), options);
  model.collect_root(doc.root());
  // Each storage entry must hold exactly its declared bytes.
  for (const StorageRoot& root : model.roots()) {
    const std::string entry = prefix + "data/" + root.key;
    const ZipEntryInfo* info = zip.find(entry);
    SAG_REQUIRE(info != nullptr, kFormat, "{}: storage '{}' has no entry '{}'", zip.path(), root.key, entry);
    const std::uint64_t bytes = static_cast<std::uint64_t>(root.numel) * at::elementSize(root.dtype);
    SAG_REQUIRE(info->size == bytes, kFormat,
                "{}: entry '{}' holds {} bytes, its storage declares {} ({} x {})", zip.path(), entry,
                info->size, bytes, root.numel, at::toString(root.dtype));
  }
  return model;
}

// --- legacy format -------------------------------------------------------------

pickle::Document legacy_pickle(pickle::FileInput& in, const std::string& what,
                               const pickle::PersistentLoader& loader = {}) {
  pickle::UnpickleOptions options;
  options.source = fmt::format("{} ({} pickle)", in.path(), what);
  options.persistent_load = loader;
  return pickle::unpickle(in, options);
}

CheckpointModel parse_legacy(pickle::FileInput& in) {
  const std::string& path = in.path();
  pickle::Document magic = legacy_pickle(in, "magic number");
  const Value& number = magic.root();
  SAG_REQUIRE(number.kind == ValueKind::kBigInt &&
                  number.text == std::string(std::begin(kLegacyMagic), std::end(kLegacyMagic)),
              kFormat, "{}: not a legacy torch checkpoint (bad magic number)", path);
  pickle::Document protocol = legacy_pickle(in, "protocol version");
  SAG_REQUIRE(protocol.root().kind == ValueKind::kInt && protocol.root().int_value == kLegacyProtocol,
              kFormat, "{}: unsupported legacy protocol {}", path, pickle::describe(protocol.root()));
  pickle::Document sys_info = legacy_pickle(in, "sys_info");
  SAG_REQUIRE(sys_info.root().kind == ValueKind::kDict, kFormat, "{}: sys_info is {}", path,
              pickle::describe(sys_info.root()));
  for (const auto& [key, value] : sys_info.root().entries) {
    if (key->kind == ValueKind::kString && key->text == "little_endian") {
      SAG_REQUIRE(value->kind == ValueKind::kBool && value->bool_value, kFormat,
                  "{}: big-endian checkpoints are not supported", path);
    }
  }
  CheckpointModel model(path, true);
  pickle::Document object = legacy_pickle(in, "object", model.loader());
  model.collect_root(object.root());
  return model;
}

// Walks the storage section: per key, an int64 element count then the data.
// `load` reads referenced storages into their roots; otherwise they are skipped.
void read_legacy_storages(pickle::FileInput& in, CheckpointModel& model, bool load) {
  const std::string& path = in.path();
  pickle::Document keys = legacy_pickle(in, "storage keys");
  const Value& list = keys.root();
  SAG_REQUIRE(list.kind == ValueKind::kList, kFormat, "{}: storage keys are {}", path,
              pickle::describe(list));
  const std::vector<bool> used = referenced_roots(model);
  std::vector<bool> seen(model.roots().size(), false);
  for (const Value* key : list.items) {
    SAG_REQUIRE(key->kind == ValueKind::kString, kFormat, "{}: storage key is {}", path,
                pickle::describe(*key));
    const StorageRoot* found = model.find_root(key->text);
    SAG_REQUIRE(found != nullptr, kFormat, "{}: data for storage '{}' that no tensor declares", path,
                key->text);
    const std::size_t index = static_cast<std::size_t>(found - model.roots().data());
    StorageRoot& root = model.roots()[index];
    SAG_REQUIRE(!seen[index], kFormat, "{}: storage '{}' is listed twice", path, key->text);
    seen[index] = true;
    std::uint8_t header[8];
    SAG_REQUIRE(in.read(header, 8) == 8, kFormat, "{}: truncated at storage '{}' (byte {})", path, key->text,
                in.offset());
    std::int64_t numel = 0;
    for (int i = 7; i >= 0; --i) {
      numel = static_cast<std::int64_t>((static_cast<std::uint64_t>(numel) << 8) | header[i]);
    }
    SAG_REQUIRE(numel == root.numel, kFormat, "{}: storage '{}' holds {} elements, its tensors declare {}",
                path, key->text, numel, root.numel);
    const std::uint64_t bytes = static_cast<std::uint64_t>(numel) * at::elementSize(root.dtype);
    SAG_REQUIRE(bytes <= in.remaining(), kFormat,
                "{}: truncated: storage '{}' needs {} bytes at byte {}, the file has {} left", path,
                key->text, bytes, in.offset(), in.remaining());
    if (load && used[index]) {
      root.data = at::empty({numel}, at::TensorOptions().dtype(root.dtype));
      SAG_REQUIRE(in.read(root.data.data_ptr(), bytes) == bytes, kIo, "{}: read error in storage '{}'", path,
                  key->text);
    } else {
      in.skip(bytes);
    }
  }
  for (std::size_t i = 0; i < seen.size(); ++i) {
    SAG_REQUIRE(seen[i], kFormat, "{}: storage '{}' has no data in the file", path, model.roots()[i].key);
  }
}

}  // namespace

bool is_torch_legacy_header(const std::uint8_t* bytes, std::size_t size) {
  return size >= 14 && bytes[0] == 0x80 && bytes[1] == 2 && bytes[2] == 0x8a && bytes[3] == 10 &&
         std::equal(std::begin(kLegacyMagic), std::end(kLegacyMagic), bytes + 4);
}

TensorDict load_torch_zip(const std::string& path) {
  ZipReader zip(path);
  std::string prefix;
  CheckpointModel model = parse_zip(zip, prefix);
  const std::vector<bool> used = referenced_roots(model);
  for (std::size_t i = 0; i < model.roots().size(); ++i) {
    StorageRoot& root = model.roots()[i];
    if (!used[i]) {
      continue;
    }
    root.data = at::empty({root.numel}, at::TensorOptions().dtype(root.dtype));
    zip.open(prefix + "data/" + root.key)->read_exact(root.data.data_ptr(), root.data.nbytes());
  }
  return tensors_of(model);
}

TensorDict load_torch_legacy(const std::string& path) {
  pickle::FileInput in(path);
  CheckpointModel model = parse_legacy(in);
  read_legacy_storages(in, model, true);
  return tensors_of(model);
}

std::vector<TensorInfo> describe_torch_zip(const std::string& path) {
  ZipReader zip(path);
  std::string prefix;
  CheckpointModel model = parse_zip(zip, prefix);
  return infos_of(model);
}

std::vector<TensorInfo> describe_torch_legacy(const std::string& path) {
  pickle::FileInput in(path);
  CheckpointModel model = parse_legacy(in);
  read_legacy_storages(in, model, false);
  return infos_of(model);
}

}  // namespace sagbench::io
