// Configuration: YAML (+ includes + `a.b=v` overrides) -> plain structs with
// defaults in code. One include for users. A config struct is
//   struct SamplerConfig {
//     int steps = 250;
//     std::string schedule = "linear";
//     template <class V> void visit(V& v) {
//       v("steps", steps, "number of sampling steps");
//       v.choice("schedule", schedule, {"linear", "cosine"}, "noise schedule");
//     }
//     void validate() const;  // optional: cross-field checks, throws kConfig
//   };
// Field types: bool, int, int64_t, double, std::string, std::vector of
// int/int64_t/double/std::string (also written "1,2,2"; "" is empty), structs
// with visit() and std::vector of them, std::optional of any of these.
// Tested by tests/config/*_test.cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <type_traits>
#include <vector>

#include "config/document.h"
#include "config/schema.h"

namespace sagbench::config {

// Binds the sub-tree at `key_path` ("" = the whole document) onto `out`: keys
// present replace the values already in `out`, missing keys keep them.
// Unknown or misspelled keys, wrong types and values outside a choice list
// throw sagbench::Error(kConfig) naming the file:line:column (or override),
// the key, and what was expected. Calls T::validate() when T has one.
template <class T>
void bind_into(const Document& doc, const std::string& key_path, T& out) {
  static_assert(detail::HasVisit<T>::value, "config structs need template <class V> void visit(V&)");
  const Node* node = doc.find(key_path);
  detail::read_value(node != nullptr ? *node : Node{}, key_path, out);
}

// A struct of code defaults overlaid with the sub-tree at `key_path`.
template <class T>
T bind(const Document& doc, const std::string& key_path) {
  T out{};
  bind_into(doc, key_path, out);
  return out;
}

// A struct of code defaults overlaid with the whole document.
template <class T>
T bind(const Document& doc) {
  return bind<T>(doc, "");
}

// The struct as a YAML map (every key, defaults included), in visit() order.
template <class T, std::enable_if_t<detail::HasVisit<T>::value, int> = 0>
YAML::Node to_yaml(const T& value) {
  return detail::to_node(value);
}

// YAML text of a node (block style, lists of scalars in flow style).
std::string to_yaml_string(const YAML::Node& node);

// YAML text of a struct: what is written as config.yaml in a run directory.
template <class T, std::enable_if_t<detail::HasVisit<T>::value, int> = 0>
std::string to_yaml_string(const T& value) {
  return to_yaml_string(to_yaml(value));
}

// Every key of a struct (nested keys dotted), with type, default, help and choices.
template <class T>
std::vector<SchemaEntry> schema_entries() {
  std::vector<SchemaEntry> entries;
  T defaults{};
  detail::Describer describer(entries, "");
  defaults.visit(describer);
  return entries;
}

enum class SchemaFormat { kText, kMarkdown };

// The schema as an aligned text table (for --help) or a Markdown table (README).
std::string format_schema(const std::vector<SchemaEntry>& entries, SchemaFormat format = SchemaFormat::kText);

template <class T>
std::string describe_schema(SchemaFormat format = SchemaFormat::kText) {
  return format_schema(schema_entries<T>(), format);
}

}  // namespace sagbench::config
