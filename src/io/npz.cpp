// NpzReader / NpzWriter (see npz.h). Entries are "<name>.npy" exactly as
// np.savez writes them; every entry's size must equal its npy header plus
// data bytes, which catches truncation before anything is allocated (entry
// sizes are themselves bounded by ZipReader against the file size).
// Tested by tests/io/npz_test.cpp and tests/io/numpy_interop_test.cpp.
#include "io/npz.h"

#include <algorithm>

#include "core/error.h"

namespace sagbench::io {
namespace {

constexpr char kNpySuffix[] = ".npy";
constexpr std::size_t kNpySuffixBytes = 4;

bool ends_with_npy(const std::string& name) {
  return name.size() > kNpySuffixBytes &&
         name.compare(name.size() - kNpySuffixBytes, kNpySuffixBytes, kNpySuffix) == 0;
}

ReadExactFn stream_reader(ZipEntryStream& stream) {
  return [&stream](void* dst, std::uint64_t bytes) { stream.read_exact(dst, bytes); };
}

}  // namespace

std::string savez_name(std::size_t index) {
  return "arr_" + std::to_string(index);
}

NpzReader::NpzReader(const std::string& path) : zip_(path) {
  for (const ZipEntryInfo& entry : zip_.entries()) {
    SAG_REQUIRE(ends_with_npy(entry.name), kFormat, "{}: entry '{}' is not an .npy array", path, entry.name);
    names_.push_back(entry.name.substr(0, entry.name.size() - kNpySuffixBytes));
  }
}

NpzReader::~NpzReader() = default;

bool NpzReader::contains(const std::string& name) const {
  return zip_.find(name + kNpySuffix) != nullptr;
}

std::string NpzReader::entry_name(const std::string& name) const {
  SAG_REQUIRE(contains(name), kFormat, "{}: no array named '{}' (arrays: {})", path(), name,
              fmt::join(names_, ", "));
  return name + kNpySuffix;
}

std::string NpzReader::source(const std::string& name) const {
  return fmt::format("{} (array '{}')", path(), name);
}

const NpyHeader& NpzReader::header(const std::string& name) {
  auto cached = headers_.find(name);
  if (cached != headers_.end()) {
    return cached->second;
  }
  const std::string entry = entry_name(name);
  auto stream = zip_.open(entry);
  NpyHeader header = read_npy_header(stream_reader(*stream), source(name));
  const std::uint64_t entry_bytes = zip_.at(entry).size;
  SAG_REQUIRE(header.data_bytes() == entry_bytes - header.header_bytes, kFormat,
              "{}: shape {} of {} needs {} data bytes but the entry holds {}", source(name),
              fmt::join(header.shape, "x"), c10::toString(header.dtype), header.data_bytes(),
              entry_bytes - header.header_bytes);
  return headers_.emplace(name, std::move(header)).first->second;
}

at::Tensor NpzReader::read(const std::string& name) {
  const NpyHeader& npy = header(name);
  auto stream = zip_.open(entry_name(name));
  stream->skip(npy.header_bytes);
  return read_npy_data(npy, stream_reader(*stream), source(name));
}

at::Tensor NpzReader::read_rows(const std::string& name, std::int64_t start, std::int64_t count) {
  const NpyHeader& npy = header(name);
  SAG_REQUIRE(!npy.fortran_order, kShape, "{}: read_rows needs a C-order array; this one is Fortran order",
              source(name));
  SAG_REQUIRE(!npy.shape.empty(), kShape, "{}: read_rows needs an array of rank >= 1", source(name));
  SAG_REQUIRE(start >= 0 && count >= 0 && start <= npy.shape[0] - count, kShape,
              "{}: rows [{}, {}+{}) are outside the {} rows", source(name), start, start, count,
              npy.shape[0]);
  NpyHeader slice = npy;
  slice.shape[0] = count;
  const std::uint64_t offset = npy.header_bytes + static_cast<std::uint64_t>(start) * npy.row_bytes();
  if (cursor_ == nullptr || cursor_name_ != name || cursor_->position() > offset) {
    cursor_.reset();
    cursor_ = zip_.open(entry_name(name));
    cursor_name_ = name;
  }
  try {
    cursor_->skip(offset - cursor_->position());
    return read_npy_data(slice, stream_reader(*cursor_), source(name));
  } catch (const Error&) {
    cursor_.reset();  // a failed stream is not reused
    throw;
  }
}

NpzArrayWriter::NpzArrayWriter(NpzWriter* owner, std::string name, at::ScalarType dtype,
                               std::vector<std::int64_t> shape)
    : owner_(owner), name_(std::move(name)), dtype_(dtype), shape_(std::move(shape)) {}

void NpzArrayWriter::append(const at::Tensor& rows) {
  SAG_CHECK(!finished_, "append to finished array '{}'", name_);
  const std::string& path = owner_->path();
  SAG_REQUIRE(rows.scalar_type() == dtype_, kShape, "{}: array '{}' holds {}, appended rows are {}", path,
              name_, c10::toString(dtype_), c10::toString(rows.scalar_type()));
  const bool trailing_match = rows.dim() == static_cast<std::int64_t>(shape_.size()) &&
                              std::equal(shape_.begin() + 1, shape_.end(), rows.sizes().begin() + 1);
  SAG_REQUIRE(trailing_match, kShape, "{}: array '{}' has rows of shape [{}], appended tensor is {}", path,
              name_, fmt::join(shape_.begin() + 1, shape_.end(), ", "), fmt::join(rows.sizes(), "x"));
  SAG_REQUIRE(rows.size(0) <= shape_[0] - rows_written_, kShape,
              "{}: array '{}' declared {} rows; {} written, {} more appended", path, name_, shape_[0],
              rows_written_, rows.size(0));
  const at::Tensor data = rows.cpu().contiguous();
  owner_->zip_.append(data.data_ptr(), data.nbytes());
  rows_written_ += rows.size(0);
}

void NpzArrayWriter::finish() {
  SAG_CHECK(!finished_, "finish of array '{}' twice", name_);
  SAG_REQUIRE(rows_written_ == shape_[0], kShape, "{}: array '{}' declared {} rows but {} were written",
              owner_->path(), name_, shape_[0], rows_written_);
  owner_->zip_.end_entry();
  finished_ = true;
}

NpzWriter::NpzWriter(const std::string& path, ZipWriterOptions options) : zip_(path, options) {}

void NpzWriter::add(const std::string& name, const at::Tensor& tensor, bool fortran_order) {
  SAG_REQUIRE(!zip_.entry_open(), kRuntime, "{}: cannot add '{}' while a streamed array is open", path(),
              name);
  SAG_REQUIRE(npy_supports(tensor.scalar_type()), kFormat,
              "{}: tensor '{}' of dtype {} cannot be stored in npz", path(), name,
              c10::toString(tensor.scalar_type()));
  const at::Tensor data = npy_data_tensor(tensor, fortran_order);
  const auto header = format_npy_header(tensor.scalar_type(), tensor.sizes(), fortran_order);
  zip_.begin_entry(name + kNpySuffix);
  zip_.append(header.data(), header.size());
  zip_.append(data.data_ptr(), data.nbytes());
  zip_.end_entry();
}

void NpzWriter::add(const at::Tensor& tensor) {
  add(savez_name(positional_count_++), tensor);
}

NpzArrayWriter NpzWriter::begin_array(const std::string& name, at::ScalarType dtype,
                                      std::vector<std::int64_t> shape) {
  SAG_REQUIRE(!zip_.entry_open(), kRuntime, "{}: cannot begin '{}' while a streamed array is open", path(),
              name);
  SAG_REQUIRE(npy_supports(dtype), kFormat, "{}: array '{}' of dtype {} cannot be stored in npz", path(),
              name, c10::toString(dtype));
  SAG_REQUIRE(
      !shape.empty() && std::all_of(shape.begin(), shape.end(), [](std::int64_t d) { return d >= 0; }),
      kShape, "{}: streamed array '{}' needs rank >= 1 and non-negative dims, got [{}]", path(), name,
      fmt::join(shape, ", "));
  const auto header = format_npy_header(dtype, shape, false);
  zip_.begin_entry(name + kNpySuffix);
  zip_.append(header.data(), header.size());
  return NpzArrayWriter(this, name, dtype, std::move(shape));
}

void NpzWriter::finish() {
  SAG_REQUIRE(!zip_.entry_open(), kShape, "{}: a streamed array was not finished", path());
  zip_.finish();
}

TensorDict read_npz(const std::string& path) {
  NpzReader reader(path);
  TensorDict out;
  for (const std::string& name : reader.names()) {
    out.insert(name, reader.read(name), path);
  }
  return out;
}

void write_npz(const std::string& path, const TensorDict& tensors) {
  NpzWriter writer(path);
  for (const auto& [name, tensor] : tensors.items()) {
    writer.add(name, tensor);
  }
  writer.finish();
}

}  // namespace sagbench::io
