// The restricted unpickler (see pickle.h). A loop over opcodes with an explicit
// value stack, mark stack and memo, after CPython's pickle._Unpickler. Memory
// is bounded: every node, stack slot and memo entry is counted against the
// limits in UnpickleOptions, and every length prefix is checked against the
// bytes left in the input before anything is allocated.
#include "io/pickle.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "core/error.h"

namespace sagbench::io::pickle {
namespace {

// Opcode names for error messages (CPython's pickletools spelling).
const char* opcode_name(std::uint8_t op) {
  switch (op) {
    case 'S':
      return "STRING";
    case 'V':
      return "UNICODE";
    case 'i':
      return "INST";
    case 'o':
      return "OBJ";
    case 0x82:
      return "EXT1";
    case 0x83:
      return "EXT2";
    case 0x84:
      return "EXT4";
    case 0x97:
      return "NEXT_BUFFER";
    case 0x98:
      return "READONLY_BUFFER";
    default:
      return nullptr;
  }
}

}  // namespace

class Unpickler {
 public:
  Unpickler(ByteInput& in, const UnpickleOptions& options) : in_(in), options_(options) {
    none_ = new_node(ValueKind::kNone);
    true_ = new_node(ValueKind::kBool);
    true_->bool_value = true;
    false_ = new_node(ValueKind::kBool);
    empty_tuple_ = new_node(ValueKind::kTuple);
  }

  Document run() {
    for (;;) {
      op_offset_ = in_.offset();
      op_ = read_u8();
      if (op_ == '.') {
        SAG_REQUIRE(!stack_.empty(), kFormat, "{}", where("STOP with an empty stack"));
        doc_.root_ = stack_.back();
        doc_.end_offset_ = in_.offset();
        return std::move(doc_);
      }
      dispatch();
    }
  }

 private:
  // --- errors and bounds -------------------------------------------------
  std::string where(const std::string& what) const {
    return fmt::format("{}: bad pickle: {} (opcode 0x{:02x} at byte {})", options_.source, what, op_,
                       op_offset_);
  }
  [[noreturn]] void fail(const std::string& what) const { SAG_FAIL(kFormat, "{}", where(what)); }

  Value* new_node(ValueKind kind) {
    if (doc_.nodes_.size() >= options_.max_nodes) {
      fail(fmt::format("more than {} values", options_.max_nodes));
    }
    Value& node = doc_.nodes_.emplace_back();
    node.kind = kind;
    return &node;
  }

  // --- input ---------------------------------------------------------------
  void read_exact(void* dst, std::size_t bytes) {
    if (in_.read(dst, bytes) != bytes) {
      SAG_FAIL(kFormat, "{}: truncated pickle: opcode 0x{:02x} at byte {} runs past the end", options_.source,
               op_, op_offset_);
    }
  }
  std::uint8_t read_u8() {
    std::uint8_t byte = 0;
    if (in_.read(&byte, 1) != 1) {
      SAG_FAIL(kFormat, "{}: truncated pickle: ends at byte {} without STOP", options_.source, in_.offset());
    }
    return byte;
  }
  template <typename T>
  T read_le() {  // pickle's binary integers and lengths are little-endian
    std::uint8_t bytes[sizeof(T)];
    read_exact(bytes, sizeof(T));
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      value |= std::uint64_t{bytes[i]} << (8 * i);
    }
    return static_cast<T>(value);
  }
  // A length-prefixed payload; the length is checked against the bytes left.
  std::string read_payload(std::uint64_t length) {
    if (length > in_.remaining()) {
      fail(fmt::format("truncated or corrupt: declared length {} exceeds the {} bytes left", length,
                       in_.remaining()));
    }
    std::string text(static_cast<std::size_t>(length), '\0');
    read_exact(text.data(), text.size());
    return text;
  }
  // A newline-terminated argument of the text opcodes (GLOBAL, INT, ...).
  std::string read_line() {
    constexpr std::size_t kMaxLine = 512;
    std::string line;
    for (;;) {
      const std::uint8_t c = read_u8();
      if (c == '\n') {
        return line;
      }
      if (line.size() >= kMaxLine) {
        fail(fmt::format("text argument longer than {} bytes", kMaxLine));
      }
      line += static_cast<char>(c);
    }
  }

  // --- stack ---------------------------------------------------------------
  void push(Value* value) {
    if (stack_.size() >= options_.max_stack) {
      fail(fmt::format("stack deeper than {}", options_.max_stack));
    }
    stack_.push_back(value);
  }
  Value* pop() {
    if (stack_.size() <= stack_floor()) {
      fail("stack underflow");
    }
    Value* value = stack_.back();
    stack_.pop_back();
    return value;
  }
  Value* top() {
    if (stack_.size() <= stack_floor()) {
      fail("stack underflow");
    }
    return stack_.back();
  }
  std::size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push_mark() {
    if (marks_.size() >= options_.max_stack) {
      fail(fmt::format("more than {} marks", options_.max_stack));
    }
    marks_.push_back(stack_.size());
  }
  // Everything above the last MARK, which is removed.
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) {
      fail("no MARK on the stack");
    }
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }

  // --- memo ------------------------------------------------------------------
  void memo_put(std::uint64_t index) {
    Value* value = top();
    if (memo_.size() >= options_.max_memo && memo_.count(index) == 0) {
      fail(fmt::format("memo larger than {} entries", options_.max_memo));
    }
    memo_[index] = value;
  }
  void memo_get(std::uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) {
      fail(fmt::format("memo key {} was never stored", index));
    }
    push(it->second);
  }

  // --- values ----------------------------------------------------------------
  void push_int(std::int64_t v) {
    Value* node = new_node(ValueKind::kInt);
    node->int_value = v;
    push(node);
  }
  void push_text(ValueKind kind, std::string text) {
    Value* node = new_node(kind);
    node->text = std::move(text);
    push(node);
  }
  void push_tuple(std::vector<Value*> items) {
    if (items.empty()) {
      push(empty_tuple_);
      return;
    }
    Value* node = new_node(ValueKind::kTuple);
    node->items = std::move(items);
    push(node);
  }
  // LONG1/LONG4: little-endian two's complement of any length.
  void push_long(const std::string& bytes) {
    if (bytes.size() <= 8) {
      std::uint64_t value = 0;
      for (std::size_t i = 0; i < bytes.size(); ++i) {
        value |= std::uint64_t{static_cast<std::uint8_t>(bytes[i])} << (8 * i);
      }
      if (!bytes.empty() && bytes.size() < 8 && (static_cast<std::uint8_t>(bytes.back()) & 0x80) != 0) {
        value |= ~std::uint64_t{0} << (8 * bytes.size());  // sign-extend
      }
      push_int(static_cast<std::int64_t>(value));
      return;
    }
    push_text(ValueKind::kBigInt, bytes);
  }
  std::int64_t parse_decimal(const std::string& text) {
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty()) {
      fail(fmt::format("bad integer literal '{}'", printable(text)));
    }
    return value;
  }
  void push_global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    const auto& allowed = options_.allowed_globals;
    if (std::find(allowed.begin(), allowed.end(), full) == allowed.end()) {
      fail(fmt::format("global '{}' is not allowed", printable(full, 120)));
    }
    push_text(ValueKind::kGlobal, full);
  }
  // REDUCE / NEWOBJ: a call of a whitelisted global becomes an inert node.
  void push_call(Value* callable, Value* args) {
    if (callable->kind != ValueKind::kGlobal) {
      fail(fmt::format("call of a non-global ({})", describe(*callable)));
    }
    if (args->kind != ValueKind::kTuple) {
      fail(fmt::format("call of '{}' with {} instead of a tuple", callable->text, describe(*args)));
    }
    if (callable->text == "collections.OrderedDict") {
      if (!args->items.empty()) {
        fail("collections.OrderedDict called with arguments");
      }
      Value* dict = new_node(ValueKind::kDict);
      dict->ordered = true;
      push(dict);
      return;
    }
    Value* node = new_node(ValueKind::kObject);
    node->text = callable->text;
    node->args = args;
    push(node);
  }
  Value* pop_kind(ValueKind kind, const char* what) {
    Value* value = pop();
    if (value->kind != kind) {
      fail(fmt::format("{} expects a {} but found {}", what, value_kind_name(kind), describe(*value)));
    }
    return value;
  }
  void set_items(Value* dict, const std::vector<Value*>& pairs) {
    if (dict->kind != ValueKind::kDict) {
      fail(fmt::format("SETITEM(S) on {}", describe(*dict)));
    }
    if (pairs.size() % 2 != 0) {
      fail("SETITEMS with an odd number of values");
    }
    for (std::size_t i = 0; i < pairs.size(); i += 2) {
      dict->entries.emplace_back(pairs[i], pairs[i + 1]);
    }
  }
  void append_items(Value* target, const std::vector<Value*>& items, ValueKind kind) {
    if (target->kind != kind || (kind == ValueKind::kSet && target->bool_value)) {
      fail(fmt::format("cannot add items to {}", describe(*target)));
    }
    target->items.insert(target->items.end(), items.begin(), items.end());
  }

  void push_persistent(const Value* pid) {
    if (!options_.persistent_load) {
      fail("persistent id without a persistent loader");
    }
    Value* node = new_node(ValueKind::kPersistent);
    node->int_value = options_.persistent_load(*pid);
    push(node);
  }

  void dispatch();

  ByteInput& in_;
  const UnpickleOptions& options_;
  Document doc_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Value*> memo_;
  Value* none_ = nullptr;
  Value* true_ = nullptr;
  Value* false_ = nullptr;
  Value* empty_tuple_ = nullptr;  // immutable singletons: no node per occurrence
  std::uint8_t op_ = 0;
  std::uint64_t op_offset_ = 0;
};

void Unpickler::dispatch() {
  switch (op_) {
    case 0x80: {  // PROTO
      const std::uint8_t version = read_u8();
      if (version > 5) {
        fail(fmt::format("unsupported pickle protocol {}", version));
      }
      return;
    }
    case 0x95:  // FRAME: an 8-byte frame length, a framing hint only
      if (read_le<std::uint64_t>() > in_.remaining()) {
        fail("frame extends past the end of the input");
      }
      return;
    case '(':
      push_mark();
      return;
    case '0':
      pop();
      return;
    case '1':
      pop_mark();
      return;
    case '2':
      push(top());
      return;
    case 'N':
      push(none_);
      return;
    case 0x88:
      push(true_);
      return;
    case 0x89:
      push(false_);
      return;
    case 'J':
      push_int(read_le<std::int32_t>());
      return;
    case 'K':
      push_int(read_u8());
      return;
    case 'M':
      push_int(read_le<std::uint16_t>());
      return;
    case 0x8a:  // LONG1
      push_long(read_payload(read_u8()));
      return;
    case 0x8b: {  // LONG4
      const std::int32_t length = read_le<std::int32_t>();
      if (length < 0) {
        fail("negative LONG4 length");
      }
      push_long(read_payload(static_cast<std::uint64_t>(length)));
      return;
    }
    case 'I': {  // INT (protocol 0): "00"/"01" are False/True
      const std::string line = read_line();
      if (line == "00" || line == "01") {
        push(line == "01" ? true_ : false_);
      } else {
        push_int(parse_decimal(line));
      }
      return;
    }
    case 'L': {  // LONG (protocol 0), optional trailing 'L'
      std::string line = read_line();
      if (!line.empty() && line.back() == 'L') {
        line.pop_back();
      }
      push_int(parse_decimal(line));
      return;
    }
    case 'G': {  // BINFLOAT: big-endian IEEE double
      std::uint8_t bytes[8];
      read_exact(bytes, 8);
      std::uint64_t bits = 0;
      for (std::uint8_t b : bytes) {
        bits = (bits << 8) | b;
      }
      Value* node = new_node(ValueKind::kFloat);
      std::memcpy(&node->float_value, &bits, sizeof(bits));
      push(node);
      return;
    }
    case 'F': {  // FLOAT (protocol 0)
      const std::string line = read_line();
      char* end = nullptr;
      const double value = std::strtod(line.c_str(), &end);
      if (line.empty() || end != line.c_str() + line.size()) {
        fail(fmt::format("bad float literal '{}'", printable(line)));
      }
      Value* node = new_node(ValueKind::kFloat);
      node->float_value = value;
      push(node);
      return;
    }
    case 'X':  // BINUNICODE
      push_text(ValueKind::kString, read_payload(read_le<std::uint32_t>()));
      return;
    case 0x8c:  // SHORT_BINUNICODE
      push_text(ValueKind::kString, read_payload(read_u8()));
      return;
    case 0x8d:  // BINUNICODE8
      push_text(ValueKind::kString, read_payload(read_le<std::uint64_t>()));
      return;
    case 'T':  // BINSTRING (Python 2 str, decoded as text like Python 3 does)
      push_text(ValueKind::kString, read_payload(read_le<std::uint32_t>()));
      return;
    case 'U':  // SHORT_BINSTRING
      push_text(ValueKind::kString, read_payload(read_u8()));
      return;
    case 'B':  // BINBYTES
      push_text(ValueKind::kBytes, read_payload(read_le<std::uint32_t>()));
      return;
    case 'C':  // SHORT_BINBYTES
      push_text(ValueKind::kBytes, read_payload(read_u8()));
      return;
    case 0x8e:  // BINBYTES8
    case 0x96:  // BYTEARRAY8
      push_text(ValueKind::kBytes, read_payload(read_le<std::uint64_t>()));
      return;
    case ')':
      push(empty_tuple_);
      return;
    case 't':
      push_tuple(pop_mark());
      return;
    case 0x85:
    case 0x86:
    case 0x87: {  // TUPLE1..3
      std::vector<Value*> items(op_ - 0x84);
      for (auto it = items.rbegin(); it != items.rend(); ++it) {
        *it = pop();
      }
      push_tuple(std::move(items));
      return;
    }
    case ']':
      push(new_node(ValueKind::kList));
      return;
    case 'l': {
      std::vector<Value*> items = pop_mark();
      Value* list = new_node(ValueKind::kList);
      list->items = std::move(items);
      push(list);
      return;
    }
    case 'a': {
      Value* item = pop();
      append_items(top(), {item}, ValueKind::kList);
      return;
    }
    case 'e': {
      std::vector<Value*> items = pop_mark();
      append_items(top(), items, ValueKind::kList);
      return;
    }
    case 0x8f:  // EMPTY_SET
      push(new_node(ValueKind::kSet));
      return;
    case 0x90: {  // ADDITEMS
      std::vector<Value*> items = pop_mark();
      append_items(top(), items, ValueKind::kSet);
      return;
    }
    case 0x91: {  // FROZENSET (bool_value marks it immutable)
      std::vector<Value*> items = pop_mark();
      Value* set = new_node(ValueKind::kSet);
      set->bool_value = true;
      set->items = std::move(items);
      push(set);
      return;
    }
    case '}':
      push(new_node(ValueKind::kDict));
      return;
    case 'd': {
      std::vector<Value*> pairs = pop_mark();
      Value* dict = new_node(ValueKind::kDict);
      set_items(dict, pairs);
      push(dict);
      return;
    }
    case 's': {
      Value* value = pop();
      Value* key = pop();
      set_items(top(), {key, value});
      return;
    }
    case 'u': {
      std::vector<Value*> pairs = pop_mark();
      set_items(top(), pairs);
      return;
    }
    case 'p':
      memo_put(static_cast<std::uint64_t>(parse_decimal(read_line())));
      return;
    case 'q':
      memo_put(read_u8());
      return;
    case 'r':
      memo_put(read_le<std::uint32_t>());
      return;
    case 0x94:  // MEMOIZE
      memo_put(memo_.size());
      return;
    case 'g':
      memo_get(static_cast<std::uint64_t>(parse_decimal(read_line())));
      return;
    case 'h':
      memo_get(read_u8());
      return;
    case 'j':
      memo_get(read_le<std::uint32_t>());
      return;
    case 'c': {  // GLOBAL "module\nname\n"
      std::string module = read_line();
      std::string name = read_line();
      push_global(module, name);
      return;
    }
    case 0x93: {  // STACK_GLOBAL
      Value* name = pop_kind(ValueKind::kString, "STACK_GLOBAL");
      Value* module = pop_kind(ValueKind::kString, "STACK_GLOBAL");
      push_global(module->text, name->text);
      return;
    }
    case 'R': {  // REDUCE
      Value* args = pop();
      Value* callable = pop();
      push_call(callable, args);
      return;
    }
    case 0x81: {  // NEWOBJ
      Value* args = pop();
      Value* cls = pop();
      push_call(cls, args);
      return;
    }
    case 0x92: {  // NEWOBJ_EX: keyword arguments are not supported
      Value* kwargs = pop_kind(ValueKind::kDict, "NEWOBJ_EX");
      Value* args = pop();
      Value* cls = pop();
      if (!kwargs->entries.empty()) {
        fail("NEWOBJ_EX with keyword arguments");
      }
      push_call(cls, args);
      return;
    }
    case 'b': {  // BUILD: the state is recorded, never applied
      Value* state = pop();
      Value* target = top();
      if ((target->kind != ValueKind::kObject && target->kind != ValueKind::kDict) ||
          target->state != nullptr) {
        fail(fmt::format("BUILD on {}", describe(*target)));
      }
      target->state = state;
      return;
    }
    case 'Q':  // BINPERSID
      push_persistent(pop());
      return;
    case 'P':  // PERSID (protocol 0): the id is a text line
      push_text(ValueKind::kString, read_line());
      push_persistent(pop());
      return;
    default:
      break;
  }
  if (const char* name = opcode_name(op_)) {
    fail(fmt::format("opcode {} is not supported", name));
  }
  fail("unknown opcode");
}

Document unpickle(ByteInput& in, const UnpickleOptions& options) {
  return Unpickler(in, options).run();
}

Document unpickle(const std::uint8_t* data, std::size_t size, const UnpickleOptions& options) {
  MemoryInput in(data, size);
  return unpickle(in, options);
}

}  // namespace sagbench::io::pickle
