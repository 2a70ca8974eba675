// Reading config values (schema.h's Binder): strict scalar parsing (YAML 1.2
// core booleans, whole-string integers and floats), comma-separated lists,
// unknown-key errors with "did you mean" by Levenshtein distance, and choice
// checks. Every error names the source (file:line:column or override), the key
// path, the expected type and the value. Tested by tests/config/bind_test.cpp.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "config/schema.h"

namespace sagbench::config::detail {
namespace {

std::string describe_value(const Node& node) {
  switch (node.kind) {
    case NodeKind::kNull:
      return "null";
    case NodeKind::kScalar:
      return "'" + node.scalar + "'";
    case NodeKind::kSequence:
      return "a list";
    case NodeKind::kMap:
      return "a map";
  }
  return "a value";
}

[[noreturn]] void type_error(const Node& node, const std::string& path, const std::string& expected) {
  SAG_FAIL(kConfig, "{}: key '{}' expects {}, got {}", node.source.describe(), path, expected,
           describe_value(node));
}

const std::string& require_scalar(const Node& node, const std::string& path, const std::string& expected) {
  if (node.kind != NodeKind::kScalar) {
    type_error(node, path, expected);
  }
  return node.scalar;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "; did you mean 'x'?" for the closest candidate within a third of its length (at least 2).
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string& candidate : candidates) {
    const size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = &candidate;
    }
  }
  if (best == nullptr || best_distance > std::max<size_t>(2, best->size() / 3)) {
    return "";
  }
  return "; did you mean '" + *best + "'?";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out += (out.empty() ? "" : ", ") + item;
  }
  return out;
}

std::string trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) {
    return "";
  }
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

bool parse_int64(const std::string& text, int64_t& out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') {
    ++begin;
  }
  if (begin == end) {
    return false;
  }
  auto result = std::from_chars(begin, end, out);
  return result.ec == std::errc() && result.ptr == end;
}

bool parse_double(const std::string& text, double& out) {
  const double inf = std::numeric_limits<double>::infinity();
  if (text == ".inf" || text == "+.inf" || text == ".Inf" || text == ".INF") {
    out = inf;
    return true;
  }
  if (text == "-.inf" || text == "-.Inf" || text == "-.INF") {
    out = -inf;
    return true;
  }
  if (text == ".nan" || text == ".NaN" || text == ".NAN") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') {
    ++begin;
  }
  if (begin == end) {
    return false;
  }
  auto result = std::from_chars(begin, end, out);
  return result.ec == std::errc() && result.ptr == end;
}

// A list from a YAML sequence, a comma-separated scalar ("1,2,2"; "" is empty) or null (empty).
template <class T>
void read_list(const Node& node, const std::string& path, const std::string& type_name, std::vector<T>& out) {
  std::vector<Node> items;
  if (node.kind == NodeKind::kSequence) {
    items = node.items;
  } else if (node.kind == NodeKind::kScalar) {
    if (!trim(node.scalar).empty()) {
      size_t start = 0;
      while (true) {
        const size_t comma = node.scalar.find(',', start);
        Node item;
        item.kind = NodeKind::kScalar;
        item.source = node.source;
        item.scalar =
            trim(node.scalar.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        items.push_back(std::move(item));
        if (comma == std::string::npos) {
          break;
        }
        start = comma + 1;
      }
    }
  } else if (node.kind != NodeKind::kNull) {
    type_error(node, path, type_name + " (a YAML list or \"a,b,c\")");
  }
  std::vector<T> values(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    read_value(items[i], path + "." + std::to_string(i), values[i]);
  }
  out = std::move(values);
}

}  // namespace

void read_value(const Node& node, const std::string& path, bool& out) {
  const std::string& text = require_scalar(node, path, "a bool (true/false)");
  if (text == "true" || text == "True" || text == "TRUE") {
    out = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    out = false;
  } else {
    type_error(node, path, "a bool (true/false)");
  }
}

void read_value(const Node& node, const std::string& path, int& out) {
  int64_t wide = 0;
  if (!parse_int64(require_scalar(node, path, "an int"), wide) || wide < std::numeric_limits<int>::min() ||
      wide > std::numeric_limits<int>::max()) {
    type_error(node, path, "an int (32-bit)");
  }
  out = static_cast<int>(wide);
}

void read_value(const Node& node, const std::string& path, int64_t& out) {
  if (!parse_int64(require_scalar(node, path, "an int64"), out)) {
    type_error(node, path, "an int64");
  }
}

void read_value(const Node& node, const std::string& path, double& out) {
  if (!parse_double(require_scalar(node, path, "a float"), out)) {
    type_error(node, path, "a float");
  }
}

void read_value(const Node& node, const std::string& path, std::string& out) {
  out = require_scalar(node, path, "a string");
}

void read_value(const Node& node, const std::string& path, std::vector<int>& out) {
  read_list(node, path, "a list of ints", out);
}

void read_value(const Node& node, const std::string& path, std::vector<int64_t>& out) {
  read_list(node, path, "a list of int64s", out);
}

void read_value(const Node& node, const std::string& path, std::vector<double>& out) {
  read_list(node, path, "a list of floats", out);
}

void read_value(const Node& node, const std::string& path, std::vector<std::string>& out) {
  read_list(node, path, "a list of strings", out);
}

void check_choice(const Node& node, const std::string& path, const std::string& value,
                  const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
    SAG_FAIL(kConfig, "{}: key '{}' must be one of {}; got '{}'{}", node.source.describe(), path,
             join(choices), value, did_you_mean(value, choices));
  }
}

void check_struct_node(const Node& node, const std::string& path) {
  if (node.kind != NodeKind::kMap && node.kind != NodeKind::kNull) {
    type_error(node, path.empty() ? std::string("<root>") : path, "a map of keys");
  }
}

const std::vector<Node>& struct_list_items(const Node& node, const std::string& path) {
  static const std::vector<Node> kEmpty;
  if (node.kind == NodeKind::kNull) {
    return kEmpty;
  }
  if (node.kind != NodeKind::kSequence) {
    type_error(node, path, "a list of maps");
  }
  return node.items;
}

void throw_validation_error(const Error& error, const Node& node, const std::string& path) {
  throw Error(error.kind(), fmt::format("{}: invalid '{}': {}", node.source.describe(),
                                        path.empty() ? std::string("config") : path, error.what()));
}

void check_unknown_keys(const Node& node, const std::string& path, const std::vector<std::string>& known) {
  for (size_t i = 0; i < node.keys.size(); ++i) {
    const std::string& key = node.keys[i];
    if (std::find(known.begin(), known.end(), key) != known.end()) {
      continue;
    }
    std::vector<std::string> sorted = known;
    std::sort(sorted.begin(), sorted.end());
    SAG_FAIL(kConfig, "{}: unknown key '{}'{}; valid keys{}: {}", node.values[i].key_source.describe(),
             join_key_path(path, key), did_you_mean(key, known), path.empty() ? "" : " of '" + path + "'",
             sorted.empty() ? "(none)" : join(sorted));
  }
}

std::string join_key_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

const Node* Binder::take(const std::string& key) {
  SAG_CHECK(std::find(known_.begin(), known_.end(), key) == known_.end(), "config key '{}' visited twice",
            join_key_path(path_, key));
  known_.push_back(key);
  return node_.kind == NodeKind::kMap ? node_.find(key) : nullptr;
}

}  // namespace sagbench::config::detail
