// A configuration document: YAML files (with `include:`) merged into one tree
// whose every value remembers where it was written (file:line:column, or the
// command-line override it came from), so that binding errors can point at it.
// Deep-merge rules: maps merge key by key, the including file wins; lists and
// scalars are replaced whole. Tested by tests/config/document_test.cpp.
#pragma once

#include <string>
#include <vector>

namespace sagbench::config {

// Where a value (or a map key) was written.
struct Source {
  std::string file;           // the YAML file; empty for overrides and defaults
  int line = 0;               // 1-based; 0 when unknown
  int column = 0;             // 1-based; 0 when unknown
  std::string override_text;  // "a.b=v" when the value came from a command-line override

  // "configs/x.yaml:12:5", "override 'a.b=v'" or "<defaults>".
  std::string describe() const;
};

enum class NodeKind { kNull, kScalar, kSequence, kMap };

// One value of the merged tree. Maps keep their keys in document order.
struct Node {
  NodeKind kind = NodeKind::kNull;
  std::string scalar;             // kScalar: the text as written (quotes removed)
  std::vector<Node> items;        // kSequence
  std::vector<std::string> keys;  // kMap: keys, in order
  std::vector<Node> values;       // kMap: values[i] belongs to keys[i]
  Source source;                  // where the value was written
  Source key_source;              // where the key naming this value was written

  const Node* find(const std::string& key) const;  // map child by key; nullptr if absent
  Node* find(const std::string& key);
  // Sets (replaces) a map child, turning a null node into a map.
  Node& set(const std::string& key, Node value);
};

class Document {
 public:
  Document();  // an empty map
  Document(Node root, std::vector<std::string> files, std::vector<std::string> overrides);

  const Node& root() const { return root_; }
  // The node at a dotted key path ("model.channel_mult", "guidance.0.scale";
  // numbers index lists; "" is the root); nullptr when absent.
  const Node* find(const std::string& key_path) const;
  bool has(const std::string& key_path) const { return find(key_path) != nullptr; }
  // Every YAML file read, the top-level one first, then includes in load order.
  const std::vector<std::string>& files() const { return files_; }
  // The `a.b=v` overrides applied, in order.
  const std::vector<std::string>& overrides() const { return overrides_; }

  // Applies one `a.b=v` override (what load_document does for each): the value
  // is parsed as YAML; missing maps on the path are created; numbers index lists.
  void apply_override(const std::string& override_text);

 private:
  Node root_;
  std::vector<std::string> files_;
  std::vector<std::string> overrides_;
};

// Loads a YAML file, resolving `include: other.yaml` (or a list of files) in any
// map, relative to the including file, then applies `a.b=v` overrides (the
// value is parsed as a YAML scalar or list; missing maps are created).
// Errors (missing file, YAML syntax, include cycle, bad override) throw
// sagbench::Error(kConfig) naming the file and line or the override.
Document load_document(const std::string& path, const std::vector<std::string>& overrides = {});

// The same from YAML text; `name` stands for the file in messages and includes
// are resolved relative to the current directory.
Document parse_document(const std::string& yaml_text, const std::string& name = "<string>",
                        const std::vector<std::string>& overrides = {});

// Splits a dotted key path into its segments ("a.b.0" -> {"a", "b", "0"}).
std::vector<std::string> split_key_path(const std::string& key_path);

}  // namespace sagbench::config
