// The visitors behind config.h. A config struct declares its keys once, in
//   template <class V> void visit(V& v) { v("key", field, "help"); v.choice(...); }
// and three visitors walk it: Binder (Node -> struct, strict about unknown keys,
// types and choices), Emitter (struct -> YAML) and Describer (key/type/default/
// help table). Users include config/config.h. Tested by tests/config/bind_test.cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "config/document.h"
#include "core/error.h"

namespace sagbench::config {

// One key of a schema, as listed by describe_schema().
struct SchemaEntry {
  std::string key_path;              // "model.channel_mult"
  std::string type_name;             // "list[int]"
  std::string default_text;          // "[1, 2, 2]"
  std::string help;                  // the visit() help text
  std::vector<std::string> choices;  // allowed values of a choice key
};

namespace detail {

// A visitor that does nothing, used to detect whether a type has visit().
struct ProbeVisitor {
  template <class F>
  void operator()(const std::string&, F&, const std::string& = {}) {}
  void choice(const std::string&, std::string&, const std::vector<std::string>&, const std::string& = {}) {}
};

template <class T, class = void>
struct HasVisit : std::false_type {};
template <class T>
struct HasVisit<T, std::void_t<decltype(std::declval<T&>().visit(std::declval<ProbeVisitor&>()))>>
    : std::true_type {};

template <class T, class = void>
struct HasValidate : std::false_type {};
template <class T>
struct HasValidate<T, std::void_t<decltype(std::declval<const T&>().validate())>> : std::true_type {};

template <class T>
struct IsStructVector : std::false_type {};
template <class T>
struct IsStructVector<std::vector<T>> : HasVisit<T> {};

// ---- reading: Node -> value (errors name the source, the key path and the type) ----
void read_value(const Node& node, const std::string& path, bool& out);
void read_value(const Node& node, const std::string& path, int& out);
void read_value(const Node& node, const std::string& path, int64_t& out);
void read_value(const Node& node, const std::string& path, double& out);
void read_value(const Node& node, const std::string& path, std::string& out);
void read_value(const Node& node, const std::string& path, std::vector<int>& out);
void read_value(const Node& node, const std::string& path, std::vector<int64_t>& out);
void read_value(const Node& node, const std::string& path, std::vector<double>& out);
void read_value(const Node& node, const std::string& path, std::vector<std::string>& out);
template <class T>
void read_value(const Node& node, const std::string& path, std::optional<T>& out);
template <class T, std::enable_if_t<HasVisit<T>::value, int> = 0>
void read_value(const Node& node, const std::string& path, T& out);
template <class T, std::enable_if_t<HasVisit<T>::value, int> = 0>
void read_value(const Node& node, const std::string& path, std::vector<T>& out);

// Checks a choice value against its allowed list (kConfig error otherwise).
void check_choice(const Node& node, const std::string& path, const std::string& value,
                  const std::vector<std::string>& choices);
// A struct must be written as a map (or left empty).
void check_struct_node(const Node& node, const std::string& path);
// Sequence items of a list of structs (a null node is an empty list).
const std::vector<Node>& struct_list_items(const Node& node, const std::string& path);
// Rethrows an error from T::validate() prefixed with where the struct was written.
[[noreturn]] void throw_validation_error(const Error& error, const Node& node, const std::string& path);
// Unknown keys of `node` (a map) given the known ones: kConfig error naming the
// first unknown key, its source, a "did you mean" and the valid keys.
void check_unknown_keys(const Node& node, const std::string& path, const std::vector<std::string>& known);
std::string join_key_path(const std::string& prefix, const std::string& key);

// Binds the keys of one map to the fields of one struct.
class Binder {
 public:
  Binder(const Node& node, std::string path) : node_(node), path_(std::move(path)) {}

  template <class F>
  void operator()(const std::string& key, F& field, const std::string& /*help*/ = {}) {
    const Node* child = take(key);
    if (child != nullptr) {
      read_value(*child, join_key_path(path_, key), field);
    } else if constexpr (HasVisit<F>::value) {
      read_value(Node{}, join_key_path(path_, key), field);  // validates nested defaults
    }
  }

  void choice(const std::string& key, std::string& field, const std::vector<std::string>& choices,
              const std::string& /*help*/ = {}) {
    const Node* child = take(key);
    if (child != nullptr) {
      std::string value;
      read_value(*child, join_key_path(path_, key), value);
      check_choice(*child, join_key_path(path_, key), value, choices);
      field = value;
    }
  }

  // Throws on keys of the map that visit() did not name.
  void finish() const { check_unknown_keys(node_, path_, known_); }

 private:
  const Node* take(const std::string& key);

  const Node& node_;
  std::string path_;
  std::vector<std::string> known_;
};

template <class T>
void read_value(const Node& node, const std::string& path, std::optional<T>& out) {
  if (node.kind == NodeKind::kNull) {
    out.reset();
    return;
  }
  T value = out.value_or(T{});
  read_value(node, path, value);
  out = std::move(value);
}

template <class T, std::enable_if_t<HasVisit<T>::value, int>>
void read_value(const Node& node, const std::string& path, T& out) {
  check_struct_node(node, path);
  Binder binder(node, path);
  out.visit(binder);
  binder.finish();
  if constexpr (HasValidate<T>::value) {
    try {
      out.validate();
    } catch (const Error& error) {
      throw_validation_error(error, node, path);
    }
  }
}

template <class T, std::enable_if_t<HasVisit<T>::value, int>>
void read_value(const Node& node, const std::string& path, std::vector<T>& out) {
  const std::vector<Node>& items = struct_list_items(node, path);
  std::vector<T> values(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    read_value(items[i], path + "." + std::to_string(i), values[i]);
  }
  out = std::move(values);
}

// ---- writing: value -> YAML ----
YAML::Node to_node(bool value);
YAML::Node to_node(int value);
YAML::Node to_node(int64_t value);
YAML::Node to_node(double value);
YAML::Node to_node(const std::string& value);
YAML::Node to_node(const std::vector<int>& value);
YAML::Node to_node(const std::vector<int64_t>& value);
YAML::Node to_node(const std::vector<double>& value);
YAML::Node to_node(const std::vector<std::string>& value);
template <class T>
YAML::Node to_node(const std::optional<T>& value);
template <class T, std::enable_if_t<HasVisit<T>::value, int> = 0>
YAML::Node to_node(const T& value);
template <class T, std::enable_if_t<HasVisit<T>::value, int> = 0>
YAML::Node to_node(const std::vector<T>& value);

// Writes the fields of one struct into a YAML map, in visit() order.
class Emitter {
 public:
  template <class F>
  void operator()(const std::string& key, F& field, const std::string& /*help*/ = {}) {
    map_[key] = to_node(field);
  }
  void choice(const std::string& key, std::string& field, const std::vector<std::string>& /*choices*/,
              const std::string& /*help*/ = {}) {
    map_[key] = to_node(field);
  }
  YAML::Node node() const { return map_; }

 private:
  YAML::Node map_{YAML::NodeType::Map};
};

template <class T>
YAML::Node to_node(const std::optional<T>& value) {
  return value.has_value() ? to_node(*value) : YAML::Node(YAML::NodeType::Null);
}

template <class T, std::enable_if_t<HasVisit<T>::value, int>>
YAML::Node to_node(const T& value) {
  T copy = value;  // visit() is non-const: it serves reading and writing alike
  Emitter emitter;
  copy.visit(emitter);
  return emitter.node();
}

template <class T, std::enable_if_t<HasVisit<T>::value, int>>
YAML::Node to_node(const std::vector<T>& value) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const T& item : value) {
    list.push_back(to_node(item));
  }
  return list;
}

// ---- describing: struct -> schema entries ----
// Type names as a YAML author sees them: bool, int, int64, float, string,
// list[int], int|null, map, list[map].
template <class T>
struct TypeName {
  static std::string get() {
    if constexpr (std::is_same_v<T, bool>) {
      return "bool";
    } else if constexpr (std::is_same_v<T, int>) {
      return "int";
    } else if constexpr (std::is_same_v<T, int64_t>) {
      return "int64";
    } else if constexpr (std::is_same_v<T, double>) {
      return "float";
    } else if constexpr (std::is_same_v<T, std::string>) {
      return "string";
    } else {
      static_assert(HasVisit<T>::value, "unsupported config field type");
      return "map";
    }
  }
};
template <class T>
struct TypeName<std::vector<T>> {
  static std::string get() { return "list[" + TypeName<T>::get() + "]"; }
};
template <class T>
struct TypeName<std::optional<T>> {
  static std::string get() { return TypeName<T>::get() + "|null"; }
};

// A YAML value on one line (flow style), for the default column.
std::string flow_text(const YAML::Node& node);

class Describer {
 public:
  Describer(std::vector<SchemaEntry>& entries, std::string prefix)
      : entries_(entries), prefix_(std::move(prefix)) {}

  template <class F>
  void operator()(const std::string& key, F& field, const std::string& help = {}) {
    const std::string path = join_key_path(prefix_, key);
    if constexpr (HasVisit<F>::value) {
      entries_.push_back({path, "map", "", help, {}});
      Describer nested(entries_, path);
      field.visit(nested);
    } else if constexpr (IsStructVector<F>::value) {
      entries_.push_back({path, "list[map]", flow_text(to_node(field)), help, {}});
      typename F::value_type item{};
      Describer nested(entries_, path + ".N");
      item.visit(nested);
    } else {
      entries_.push_back({path, TypeName<F>::get(), flow_text(to_node(field)), help, {}});
    }
  }
  void choice(const std::string& key, std::string& field, const std::vector<std::string>& choices,
              const std::string& help = {}) {
    entries_.push_back({join_key_path(prefix_, key), "string", flow_text(to_node(field)), help, choices});
  }

 private:
  std::vector<SchemaEntry>& entries_;
  std::string prefix_;
};

}  // namespace detail
}  // namespace sagbench::config
