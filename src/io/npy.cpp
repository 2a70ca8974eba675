// .npy header parsing and formatting, and whole-file read/write (see npy.h).
// The header dict is parsed by a small recursive-descent reader of the Python
// literals numpy writes (strings, True/False, int tuples), not by evaluating
// anything; shapes are checked for negative dims and for overflow of the byte
// count before any allocation. Follows numpy/lib/format.py
// (_write_array_header, _read_array_header). Tested by tests/io/npy_test.cpp.
#include "io/npy.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include "core/error.h"
#include "io/atomic_file.h"

namespace sagbench::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicBytes = 6;
// numpy itself refuses headers above 10000 bytes by default; allow more, but
// never let a declared length drive a large allocation.
constexpr std::uint64_t kMaxHeaderDictBytes = 1 << 20;
constexpr std::size_t kMaxDims = 32;
constexpr std::size_t kArrayAlign = 64;

struct DtypeName {
  at::ScalarType dtype;
  const char* descr;
};
constexpr DtypeName kDtypes[] = {
    {at::kByte, "|u1"}, {at::kChar, "|i1"},  {at::kShort, "<i2"},  {at::kInt, "<i4"},  {at::kLong, "<i8"},
    {at::kHalf, "<f2"}, {at::kFloat, "<f4"}, {at::kDouble, "<f8"}, {at::kBool, "|b1"},
};

at::ScalarType dtype_from_descr(const std::string& descr, const std::string& source) {
  SAG_REQUIRE(descr.size() >= 3, kFormat, "{}: npy descr '{}' is not a simple dtype", source, descr);
  const char order = descr[0];
  SAG_REQUIRE(order == '<' || order == '|' || order == '=' || order == '>', kFormat,
              "{}: npy descr '{}' has no byte order", source, descr);
  const std::string body = descr.substr(1);
  for (const auto& entry : kDtypes) {
    if (body == entry.descr + 1) {
      // Byte order only matters for multi-byte types ('>u1' is plain bytes).
      SAG_REQUIRE(order != '>' || at::elementSize(entry.dtype) == 1, kFormat,
                  "{}: big-endian npy dtype '{}' is not supported", source, descr);
      return entry.dtype;
    }
  }
  SAG_FAIL(kFormat, "{}: unsupported npy dtype '{}' (supported: u1 i1 i2 i4 i8 f2 f4 f8 b1)", source, descr);
}

// Recursive-descent reader of numpy's header dict literal.
class HeaderDictParser {
 public:
  HeaderDictParser(const char* begin, const char* end, const std::string& source)
      : begin_(begin), pos_(begin), end_(end), source_(source) {}

  void parse(NpyHeader& header) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') {
        break;
      }
      const std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        SAG_REQUIRE(!have_descr, kFormat, "{}: npy header repeats 'descr'", source_);
        skip_space();
        SAG_REQUIRE(peek() == '\'' || peek() == '"', kFormat,
                    "{}: npy 'descr' is not a simple dtype string (structured arrays are not supported)",
                    source_);
        header.dtype = dtype_from_descr(parse_string(), source_);
        have_descr = true;
      } else if (key == "fortran_order") {
        SAG_REQUIRE(!have_order, kFormat, "{}: npy header repeats 'fortran_order'", source_);
        header.fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        SAG_REQUIRE(!have_shape, kFormat, "{}: npy header repeats 'shape'", source_);
        header.shape = parse_shape();
        have_shape = true;
      } else {
        SAG_FAIL(kFormat, "{}: npy header has unexpected key '{}'", source_, key);
      }
      skip_space();
      if (peek() != ',') {
        break;
      }
      ++pos_;
    }
    expect('}');
    skip_space();
    SAG_REQUIRE(pos_ == end_, kFormat, "{}: npy header has trailing characters after the dict", source_);
    SAG_REQUIRE(have_descr && have_order && have_shape, kFormat,
                "{}: npy header lacks one of 'descr', 'fortran_order', 'shape'", source_);
  }

 private:
  char peek() const { return pos_ < end_ ? *pos_ : '\0'; }

  void skip_space() {
    while (pos_ < end_ && (*pos_ == ' ' || *pos_ == '\n' || *pos_ == '\t' || *pos_ == '\r')) {
      ++pos_;
    }
  }

  void expect(char c) {
    skip_space();
    SAG_REQUIRE(peek() == c, kFormat, "{}: malformed npy header: expected '{}' at byte {}", source_, c,
                offset());
    ++pos_;
  }

  std::size_t offset() const { return static_cast<std::size_t>(pos_ - begin_); }

  std::string parse_string() {
    skip_space();
    const char quote = peek();
    SAG_REQUIRE(quote == '\'' || quote == '"', kFormat, "{}: malformed npy header: expected a string",
                source_);
    ++pos_;
    std::string out;
    while (pos_ < end_ && *pos_ != quote) {
      SAG_REQUIRE(*pos_ != '\\', kFormat, "{}: npy header string has an escape sequence", source_);
      out.push_back(*pos_++);
    }
    SAG_REQUIRE(pos_ < end_, kFormat, "{}: npy header string is not terminated", source_);
    ++pos_;
    return out;
  }

  bool parse_bool() {
    skip_space();
    for (const auto& [word, value] : {std::pair<const char*, bool>{"True", true}, {"False", false}}) {
      const std::size_t n = std::strlen(word);
      if (static_cast<std::size_t>(end_ - pos_) >= n && std::strncmp(pos_, word, n) == 0) {
        pos_ += n;
        return value;
      }
    }
    SAG_FAIL(kFormat, "{}: npy 'fortran_order' is not True or False", source_);
  }

  std::int64_t parse_dim() {
    skip_space();
    SAG_REQUIRE(peek() != '-', kFormat, "{}: npy shape has a negative dimension", source_);
    SAG_REQUIRE(peek() >= '0' && peek() <= '9', kFormat, "{}: npy shape holds a non-integer", source_);
    std::int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const int digit = *pos_++ - '0';
      SAG_REQUIRE(value <= (std::numeric_limits<std::int64_t>::max() - digit) / 10, kFormat,
                  "{}: npy shape dimension overflows int64", source_);
      value = value * 10 + digit;
    }
    if (peek() == 'L') {  // Python 2 long literal, in files written by old numpy
      ++pos_;
    }
    return value;
  }

  std::vector<std::int64_t> parse_shape() {
    expect('(');
    std::vector<std::int64_t> shape;
    while (true) {
      skip_space();
      if (peek() == ')') {
        break;
      }
      SAG_REQUIRE(shape.size() < kMaxDims, kFormat, "{}: npy shape has more than {} dimensions", source_,
                  kMaxDims);
      shape.push_back(parse_dim());
      skip_space();
      if (peek() == ')') {
        SAG_REQUIRE(shape.size() != 1, kFormat, "{}: npy shape '(n)' is not a tuple", source_);
        break;
      }
      SAG_REQUIRE(peek() == ',', kFormat, "{}: npy shape is not a tuple of integers", source_);
      ++pos_;
    }
    expect(')');
    return shape;
  }

  const char* begin_;
  const char* pos_;
  const char* end_;
  const std::string& source_;
};

std::uint32_t read_le(const std::uint8_t* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}

// Preamble (magic, version, length field) size for a version major byte.
std::size_t preamble_bytes(std::uint8_t major) {
  return major == 1 ? 10 : 12;
}

void check_magic(const std::uint8_t* data, const std::string& source) {
  SAG_REQUIRE(std::memcmp(data, kMagic, kMagicBytes) == 0, kFormat, "{}: not an npy file (bad magic)",
              source);
  SAG_REQUIRE(data[6] >= 1 && data[6] <= 3 && data[7] == 0, kFormat,
              "{}: unsupported npy format version {}.{}", source, data[6], data[7]);
}

}  // namespace

std::int64_t NpyHeader::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    n *= d;
  }
  return n;
}

std::uint64_t NpyHeader::item_bytes() const {
  return at::elementSize(dtype);
}
std::uint64_t NpyHeader::data_bytes() const {
  return static_cast<std::uint64_t>(numel()) * item_bytes();
}

std::uint64_t NpyHeader::row_bytes() const {
  if (shape.empty() || shape[0] == 0) {
    return shape.empty() ? data_bytes() : 0;
  }
  return data_bytes() / static_cast<std::uint64_t>(shape[0]);
}

bool npy_supports(at::ScalarType dtype) {
  return std::any_of(std::begin(kDtypes), std::end(kDtypes),
                     [dtype](const DtypeName& entry) { return entry.dtype == dtype; });
}

std::string npy_descr(at::ScalarType dtype) {
  for (const auto& entry : kDtypes) {
    if (entry.dtype == dtype) {
      return entry.descr;
    }
  }
  SAG_FAIL(kFormat, "dtype {} cannot be stored in an npy file", c10::toString(dtype));
}

NpyHeader parse_npy_header(const std::uint8_t* data, std::size_t size, const std::string& source) {
  SAG_REQUIRE(size >= 10, kFormat, "{}: truncated npy header ({} bytes)", source, size);
  check_magic(data, source);
  const std::size_t preamble = preamble_bytes(data[6]);
  SAG_REQUIRE(size >= preamble, kFormat, "{}: truncated npy header ({} bytes)", source, size);
  const std::uint64_t dict_bytes = read_le(data + 8, static_cast<int>(preamble - 8));
  SAG_REQUIRE(dict_bytes <= kMaxHeaderDictBytes, kFormat, "{}: npy header declares {} bytes (limit {})",
              source, dict_bytes, kMaxHeaderDictBytes);
  SAG_REQUIRE(size - preamble >= dict_bytes, kFormat, "{}: npy header declares {} bytes but only {} remain",
              source, dict_bytes, size - preamble);
  NpyHeader header;
  const auto* dict = reinterpret_cast<const char*>(data + preamble);
  HeaderDictParser(dict, dict + dict_bytes, source).parse(header);
  header.header_bytes = preamble + dict_bytes;
  // The byte count must fit in int64 (so at::empty and file offsets are safe).
  std::int64_t bytes = static_cast<std::int64_t>(header.item_bytes());
  for (std::int64_t d : header.shape) {
    SAG_REQUIRE(!__builtin_mul_overflow(bytes, d, &bytes), kFormat,
                "{}: npy shape {} overflows the addressable byte count", source,
                fmt::join(header.shape, "x"));
  }
  return header;
}

NpyHeader read_npy_header(const ReadExactFn& read, const std::string& source) {
  std::vector<std::uint8_t> bytes(12);
  read(bytes.data(), 10);
  check_magic(bytes.data(), source);
  const std::size_t preamble = preamble_bytes(bytes[6]);
  if (preamble > 10) {
    read(bytes.data() + 10, preamble - 10);
  }
  const std::uint64_t dict_bytes = read_le(bytes.data() + 8, static_cast<int>(preamble - 8));
  SAG_REQUIRE(dict_bytes <= kMaxHeaderDictBytes, kFormat, "{}: npy header declares {} bytes (limit {})",
              source, dict_bytes, kMaxHeaderDictBytes);
  bytes.resize(preamble + dict_bytes);
  read(bytes.data() + preamble, dict_bytes);
  return parse_npy_header(bytes.data(), bytes.size(), source);
}

std::vector<std::uint8_t> format_npy_header(at::ScalarType dtype, at::IntArrayRef shape, bool fortran_order) {
  std::string shape_text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    shape_text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  }
  shape_text += shape.size() == 1 ? ",)" : ")";
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}", npy_descr(dtype),
                                 fortran_order ? "True" : "False", shape_text);
  const bool v2 = dict.size() + 1 + 10 + kArrayAlign > 0xFFFF;
  const std::size_t preamble = v2 ? 12 : 10;
  const std::size_t unpadded = preamble + dict.size() + 1;
  dict.append((kArrayAlign - unpadded % kArrayAlign) % kArrayAlign, ' ');
  dict.push_back('\n');
  std::vector<std::uint8_t> out(kMagic, kMagic + kMagicBytes);
  out.push_back(v2 ? 2 : 1);
  out.push_back(0);
  for (std::size_t i = 0; i < preamble - 8; ++i) {
    out.push_back(static_cast<std::uint8_t>(dict.size() >> (8 * i)));
  }
  out.insert(out.end(), dict.begin(), dict.end());
  return out;
}

at::Tensor read_npy_data(const NpyHeader& header, const ReadExactFn& read, const std::string& source) {
  // Fortran data are the C-order data of the reversed shape, transposed back.
  std::vector<std::int64_t> stored_shape = header.shape;
  if (header.fortran_order) {
    std::reverse(stored_shape.begin(), stored_shape.end());
  }
  // Bool bytes other than 0/1 are not valid at::kBool values: read as u8, compare.
  const at::ScalarType stored_dtype = header.dtype == at::kBool ? at::kByte : header.dtype;
  at::Tensor data = at::empty(stored_shape, at::TensorOptions().dtype(stored_dtype));
  read(data.data_ptr(), header.data_bytes());
  if (header.dtype == at::kBool) {
    data = data.ne(0);
  }
  if (header.fortran_order && data.dim() > 1) {
    std::vector<std::int64_t> reverse_dims(static_cast<std::size_t>(data.dim()));
    for (std::size_t i = 0; i < reverse_dims.size(); ++i) {
      reverse_dims[i] = static_cast<std::int64_t>(reverse_dims.size() - 1 - i);
    }
    data = data.permute(reverse_dims).contiguous();
  }
  return data;
}

at::Tensor npy_data_tensor(const at::Tensor& tensor, bool fortran_order) {
  npy_descr(tensor.scalar_type());  // rejects dtypes npy cannot hold
  at::Tensor cpu = tensor.cpu();
  if (fortran_order && cpu.dim() > 1) {
    std::vector<std::int64_t> reverse_dims(static_cast<std::size_t>(cpu.dim()));
    for (std::size_t i = 0; i < reverse_dims.size(); ++i) {
      reverse_dims[i] = static_cast<std::int64_t>(reverse_dims.size() - 1 - i);
    }
    cpu = cpu.permute(reverse_dims);
  }
  return cpu.contiguous();
}

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

class NpyFileReader {
 public:
  explicit NpyFileReader(const std::string& path) : path_(path) {
    std::error_code ec;
    SAG_REQUIRE(std::filesystem::is_regular_file(path, ec), kIo, "{}: no such file", path);
    size_ = std::filesystem::file_size(path, ec);
    SAG_REQUIRE(!ec, kIo, "{}: cannot stat: {}", path, ec.message());
    file_.reset(std::fopen(path.c_str(), "rb"));
    SAG_REQUIRE(file_ != nullptr, kIo, "{}: cannot open: {}", path, std::strerror(errno));
  }

  NpyHeader header() {
    NpyHeader header = read_npy_header(reader(), path_);
    SAG_REQUIRE(header.data_bytes() <= size_ - header.header_bytes, kFormat,
                "{}: truncated npy file: shape {} of {} needs {} data bytes, only {} present", path_,
                fmt::join(header.shape, "x"), c10::toString(header.dtype), header.data_bytes(),
                size_ - header.header_bytes);
    return header;
  }

  ReadExactFn reader() {
    return [this](void* dst, std::uint64_t bytes) {
      SAG_REQUIRE(std::fread(dst, 1, bytes, file_.get()) == bytes, kFormat,
                  "{}: truncated npy file ({} bytes)", path_, size_);
    };
  }

 private:
  std::string path_;
  std::uint64_t size_ = 0;
  std::unique_ptr<std::FILE, FileCloser> file_;
};

}  // namespace

NpyHeader read_npy_header(const std::string& path) {
  return NpyFileReader(path).header();
}

at::Tensor read_npy(const std::string& path) {
  NpyFileReader file(path);
  const NpyHeader header = file.header();
  return read_npy_data(header, file.reader(), path);
}

void write_npy(const std::string& path, const at::Tensor& tensor, bool fortran_order) {
  SAG_REQUIRE(npy_supports(tensor.scalar_type()), kFormat, "{}: dtype {} cannot be stored in an npy file",
              path, c10::toString(tensor.scalar_type()));
  const at::Tensor data = npy_data_tensor(tensor, fortran_order);
  AtomicFile file(path);
  const auto header = format_npy_header(tensor.scalar_type(), tensor.sizes(), fortran_order);
  file.write(header.data(), header.size());
  file.write(data.data_ptr(), data.nbytes());
  file.commit();
}

}  // namespace sagbench::io
