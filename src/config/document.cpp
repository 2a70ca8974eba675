// Loading configuration documents (see document.h): YAML text -> Node trees
// with sources, `include:` resolution with cycle detection and deep merge, and
// `a.b=v` overrides. Tested by tests/config/document_test.cpp.
#include "config/document.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace sagbench::config {
namespace fs = std::filesystem;
namespace {

Source source_of(const YAML::Mark& mark, const std::string& file) {
  Source source;
  source.file = file;
  if (mark.line >= 0) {
    source.line = mark.line + 1;
    source.column = mark.column + 1;
  }
  return source;
}

const char* kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::kNull:
      return "null";
    case NodeKind::kScalar:
      return "scalar";
    case NodeKind::kSequence:
      return "list";
    case NodeKind::kMap:
      return "map";
  }
  return "value";
}

// Deep merge: maps key by key (`over` wins), anything else replaced whole.
void merge_into(Node& base, Node over) {
  if (base.kind != NodeKind::kMap || over.kind != NodeKind::kMap) {
    Source key_source = base.key_source;
    base = std::move(over);
    if (base.key_source.file.empty() && base.key_source.override_text.empty()) {
      base.key_source = key_source;
    }
    return;
  }
  for (size_t i = 0; i < over.keys.size(); ++i) {
    Node* existing = base.find(over.keys[i]);
    if (existing != nullptr) {
      merge_into(*existing, std::move(over.values[i]));
    } else {
      base.keys.push_back(over.keys[i]);
      base.values.push_back(std::move(over.values[i]));
    }
  }
  base.source = over.source;
}

// Converts YAML files to Node trees, following includes.
class Loader {
 public:
  Node load_file(const std::string& path, const Source& included_from) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (included_from.file.empty()) {
        SAG_FAIL(kConfig, "cannot read config file '{}'", path);
      }
      SAG_FAIL(kConfig, "{}: cannot read included config file '{}'", included_from.describe(), path);
    }
    std::stringstream text;
    text << in.rdbuf();
    return load_text(text.str(), path, included_from);
  }

  Node load_text(const std::string& text, const std::string& name, const Source& included_from) {
    const std::string key = fs::weakly_canonical(fs::absolute(name)).string();
    if (std::find(stack_.begin(), stack_.end(), key) != stack_.end()) {
      std::string chain;
      for (const std::string& file : stack_) {
        chain += file + " -> ";
      }
      SAG_FAIL(kConfig, "{}: include cycle: {}{}", included_from.describe(), chain, key);
    }
    files_.push_back(name);
    stack_.push_back(key);
    YAML::Node yaml;
    try {
      yaml = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      SAG_FAIL(kConfig, "{}: YAML syntax error: {}", source_of(e.mark, name).describe(), e.msg);
    }
    Node root = convert(yaml, name, source_of(YAML::Mark(), name));
    if (root.kind == NodeKind::kNull) {  // an empty file is an empty map
      root.kind = NodeKind::kMap;
    }
    if (root.kind != NodeKind::kMap) {
      SAG_FAIL(kConfig, "{}: a config file must be a map of keys, found a {}", root.source.describe(),
               kind_name(root.kind));
    }
    stack_.pop_back();
    return root;
  }

  std::vector<std::string> take_files() { return std::move(files_); }

  // One YAML value as a Node; `file` names it in sources and anchors includes.
  Node convert(const YAML::Node& yaml, const std::string& file, const Source& key_source) {
    Node node;
    node.key_source = key_source;
    node.source = source_of(yaml.Mark(), file);
    if (node.source.line == 0) {
      node.source = key_source;
    }
    switch (yaml.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        node.kind = NodeKind::kNull;
        node.source = key_source;  // yaml-cpp marks an empty value at the next token
        break;
      case YAML::NodeType::Scalar:
        node.kind = NodeKind::kScalar;
        node.scalar = yaml.Scalar();
        break;
      case YAML::NodeType::Sequence:
        node.kind = NodeKind::kSequence;
        for (const YAML::Node& item : yaml) {
          node.items.push_back(convert(item, file, source_of(item.Mark(), file)));
        }
        break;
      case YAML::NodeType::Map:
        node.kind = NodeKind::kMap;
        convert_map(yaml, file, node);
        break;
    }
    return node;
  }

 private:
  void convert_map(const YAML::Node& yaml, const std::string& file, Node& node) {
    const Node* include = nullptr;
    Node include_node;
    for (const auto& entry : yaml) {
      const Source key_source = source_of(entry.first.Mark(), file);
      if (!entry.first.IsScalar()) {
        SAG_FAIL(kConfig, "{}: map keys must be plain strings", key_source.describe());
      }
      const std::string key = entry.first.Scalar();
      const Node* previous = node.find(key);
      if (previous != nullptr || (key == "include" && include != nullptr)) {
        const Source& first = key == "include" ? include->key_source : previous->key_source;
        SAG_FAIL(kConfig, "{}: duplicate key '{}' (first at {})", key_source.describe(), key,
                 first.describe());
      }
      if (key == "include") {
        include_node = convert(entry.second, file, key_source);
        include = &include_node;
      } else {
        node.keys.push_back(key);
        node.values.push_back(convert(entry.second, file, key_source));
      }
    }
    if (include != nullptr) {
      apply_includes(*include, file, node);
    }
  }

  // The included files, in order, under the including map's own keys.
  void apply_includes(const Node& include, const std::string& file, Node& node) {
    std::vector<const Node*> paths;
    if (include.kind == NodeKind::kScalar) {
      paths.push_back(&include);
    } else if (include.kind == NodeKind::kSequence) {
      for (const Node& item : include.items) {
        SAG_REQUIRE(item.kind == NodeKind::kScalar, kConfig, "{}: 'include' entries must be file names",
                    item.source.describe());
        paths.push_back(&item);
      }
    } else {
      SAG_FAIL(kConfig, "{}: 'include' must be a file name or a list of file names",
               include.source.describe());
    }
    const fs::path base_dir = fs::path(file).parent_path();
    Node merged;
    merged.kind = NodeKind::kMap;
    for (const Node* path : paths) {
      const fs::path target =
          fs::path(path->scalar).is_absolute() ? fs::path(path->scalar) : base_dir / path->scalar;
      merge_into(merged, load_file(target.lexically_normal().string(), path->source));
    }
    Source source = node.source;
    Source key_source = node.key_source;
    merge_into(merged, std::move(node));
    node = std::move(merged);
    node.source = source;
    node.key_source = key_source;
  }

  std::vector<std::string> stack_;
  std::vector<std::string> files_;
};

bool parse_index(const std::string& segment, size_t& index) {
  if (segment.empty()) {
    return false;
  }
  const char* end = segment.data() + segment.size();
  auto result = std::from_chars(segment.data(), end, index);
  return result.ec == std::errc() && result.ptr == end;
}

void set_source_recursive(Node& node, const Source& source) {
  node.source = source;
  node.key_source = source;
  for (Node& item : node.items) {
    set_source_recursive(item, source);
  }
  for (Node& value : node.values) {
    set_source_recursive(value, source);
  }
}

}  // namespace

std::string Source::describe() const {
  if (!override_text.empty()) {
    return "override '" + override_text + "'";
  }
  if (file.empty()) {
    return "<defaults>";
  }
  if (line <= 0) {
    return file;
  }
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const Node* Node::find(const std::string& key) const {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) {
      return &values[i];
    }
  }
  return nullptr;
}

Node* Node::find(const std::string& key) {
  return const_cast<Node*>(static_cast<const Node&>(*this).find(key));
}

Node& Node::set(const std::string& key, Node value) {
  if (kind == NodeKind::kNull) {
    kind = NodeKind::kMap;
  }
  SAG_CHECK(kind == NodeKind::kMap, "Node::set on a {}", kind_name(kind));
  Node* existing = find(key);
  if (existing != nullptr) {
    *existing = std::move(value);
    return *existing;
  }
  keys.push_back(key);
  values.push_back(std::move(value));
  return values.back();
}

std::vector<std::string> split_key_path(const std::string& key_path) {
  std::vector<std::string> segments;
  if (key_path.empty()) {
    return segments;
  }
  size_t start = 0;
  while (true) {
    const size_t dot = key_path.find('.', start);
    segments.push_back(key_path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) {
      break;
    }
    start = dot + 1;
  }
  return segments;
}

Document::Document() {
  root_.kind = NodeKind::kMap;
}

Document::Document(Node root, std::vector<std::string> files, std::vector<std::string> overrides)
    : root_(std::move(root)), files_(std::move(files)), overrides_(std::move(overrides)) {}

const Node* Document::find(const std::string& key_path) const {
  const Node* node = &root_;
  for (const std::string& segment : split_key_path(key_path)) {
    size_t index = 0;
    if (node->kind == NodeKind::kMap) {
      node = node->find(segment);
    } else if (node->kind == NodeKind::kSequence && parse_index(segment, index) &&
               index < node->items.size()) {
      node = &node->items[index];
    } else {
      return nullptr;
    }
    if (node == nullptr) {
      return nullptr;
    }
  }
  return node;
}

void Document::apply_override(const std::string& override_text) {
  const size_t eq = override_text.find('=');
  SAG_REQUIRE(eq != std::string::npos && eq > 0, kConfig,
              "override '{}': expected key.path=value (e.g. model.image_size=64)", override_text);
  const std::string key_path = override_text.substr(0, eq);
  const std::string value_text = override_text.substr(eq + 1);
  const std::vector<std::string> segments = split_key_path(key_path);
  for (const std::string& segment : segments) {
    SAG_REQUIRE(!segment.empty(), kConfig, "override '{}': empty segment in key path '{}'", override_text,
                key_path);
  }
  Source source;
  source.override_text = override_text;

  Node value;
  if (value_text.empty()) {  // `key=` sets an empty string (an empty list for list keys)
    value.kind = NodeKind::kScalar;
  } else {
    YAML::Node yaml;
    try {
      yaml = YAML::Load(value_text);
    } catch (const YAML::Exception& e) {
      SAG_FAIL(kConfig, "override '{}': value is not valid YAML: {}", override_text, e.msg);
    }
    value = Loader().convert(yaml, "", source);
  }
  set_source_recursive(value, source);

  Node* node = &root_;
  std::string walked;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& segment = segments[i];
    const bool last = i + 1 == segments.size();
    size_t index = 0;
    if (node->kind == NodeKind::kSequence) {
      SAG_REQUIRE(parse_index(segment, index) && index < node->items.size(), kConfig,
                  "override '{}': '{}' is a list of {} items ({}), '{}' is not an index in it", override_text,
                  walked, node->items.size(), node->source.describe(), segment);
      node = &node->items[index];
      if (last) {
        *node = std::move(value);
      }
    } else {
      SAG_REQUIRE(node->kind == NodeKind::kMap || node->kind == NodeKind::kNull, kConfig,
                  "override '{}': '{}' is a {} ({}), it has no key '{}'", override_text, walked,
                  kind_name(node->kind), node->source.describe(), segment);
      Node* child = node->find(segment);
      if (last) {
        node->set(segment, std::move(value));
      } else if (child == nullptr) {
        Node map;
        map.kind = NodeKind::kMap;
        map.source = source;
        map.key_source = source;
        node = &node->set(segment, std::move(map));
      } else {
        node = child;
      }
    }
    walked += (walked.empty() ? "" : ".") + segment;
  }
  overrides_.push_back(override_text);
}

Document parse_document(const std::string& yaml_text, const std::string& name,
                        const std::vector<std::string>& overrides) {
  Loader loader;
  Node root = loader.load_text(yaml_text, name, Source{});
  Document doc(std::move(root), loader.take_files(), {});
  for (const std::string& item : overrides) {
    doc.apply_override(item);
  }
  return doc;
}

Document load_document(const std::string& path, const std::vector<std::string>& overrides) {
  Loader loader;
  Node root = loader.load_file(path, Source{});
  Document doc(std::move(root), loader.take_files(), {});
  for (const std::string& item : overrides) {
    doc.apply_override(item);
  }
  return doc;
}

}  // namespace sagbench::config
