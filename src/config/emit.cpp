// Writing config values (schema.h's Emitter) and schema tables: floats in
// their shortest round-trip form (always with a '.' or exponent, so YAML
// readers see a float), lists of scalars in flow style, and the key/type/
// default/help table of describe_schema(). Tested by tests/config/emit_test.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "config/config.h"

namespace sagbench::config {
namespace detail {
namespace {

template <class T>
YAML::Node scalar_list(const std::vector<T>& values) {
  YAML::Node list(YAML::NodeType::Sequence);
  list.SetStyle(YAML::EmitterStyle::Flow);
  for (const T& value : values) {
    list.push_back(to_node(value));
  }
  return list;
}

}  // namespace

YAML::Node to_node(bool value) {
  return YAML::Node(std::string(value ? "true" : "false"));
}

YAML::Node to_node(int value) {
  return YAML::Node(std::to_string(value));
}

YAML::Node to_node(int64_t value) {
  return YAML::Node(std::to_string(value));
}

YAML::Node to_node(double value) {
  if (std::isnan(value)) {
    return YAML::Node(std::string(".nan"));
  }
  if (std::isinf(value)) {
    return YAML::Node(std::string(value > 0 ? ".inf" : "-.inf"));
  }
  std::string text = fmt::format("{}", value);  // shortest text that reads back exactly
  if (text.find_first_of(".eE") == std::string::npos) {
    text += ".0";
  }
  return YAML::Node(text);
}

YAML::Node to_node(const std::string& value) {
  return YAML::Node(value);
}

YAML::Node to_node(const std::vector<int>& value) {
  return scalar_list(value);
}

YAML::Node to_node(const std::vector<int64_t>& value) {
  return scalar_list(value);
}

YAML::Node to_node(const std::vector<double>& value) {
  return scalar_list(value);
}

YAML::Node to_node(const std::vector<std::string>& value) {
  return scalar_list(value);
}

std::string flow_text(const YAML::Node& node) {
  if (node.IsNull()) {
    return "null";
  }
  YAML::Emitter emitter;
  emitter.SetMapFormat(YAML::Flow);
  emitter.SetSeqFormat(YAML::Flow);
  emitter << node;
  return emitter.c_str();
}

}  // namespace detail

std::string to_yaml_string(const YAML::Node& node) {
  YAML::Emitter emitter;
  emitter << node;
  return std::string(emitter.c_str()) + "\n";
}

std::string format_schema(const std::vector<SchemaEntry>& entries, SchemaFormat format) {
  auto help_of = [](const SchemaEntry& entry) {
    std::string help = entry.help;
    if (!entry.choices.empty()) {
      std::string choices;
      for (const std::string& choice : entry.choices) {
        choices += (choices.empty() ? "" : ", ") + choice;
      }
      help += (help.empty() ? "" : " ") + ("(one of: " + choices + ")");
    }
    return help;
  };
  std::string out;
  if (format == SchemaFormat::kMarkdown) {
    auto cell = [](std::string text) {  // '|' would split the table cell
      for (size_t pos = 0; (pos = text.find('|', pos)) != std::string::npos; pos += 2) {
        text.replace(pos, 1, "\\|");
      }
      return text;
    };
    out += "| key | type | default | description |\n|---|---|---|---|\n";
    for (const SchemaEntry& entry : entries) {
      const std::string default_cell = entry.default_text.empty() ? "" : "`" + entry.default_text + "`";
      out += fmt::format("| `{}` | {} | {} | {} |\n", entry.key_path, cell(entry.type_name),
                         cell(default_cell), cell(help_of(entry)));
    }
    return out;
  }
  size_t key_width = 3;
  size_t type_width = 4;
  size_t default_width = 7;
  for (const SchemaEntry& entry : entries) {
    key_width = std::max(key_width, entry.key_path.size());
    type_width = std::max(type_width, entry.type_name.size());
    default_width = std::max(default_width, entry.default_text.size());
  }
  auto row = [&](const std::string& key, const std::string& type, const std::string& default_text,
                 const std::string& help) {
    std::string line = fmt::format("{:<{}}  {:<{}}  {:<{}}  {}", key, key_width, type, type_width,
                                   default_text, default_width, help);
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  };
  row("key", "type", "default", "description");
  for (const SchemaEntry& entry : entries) {
    row(entry.key_path, entry.type_name, entry.default_text, help_of(entry));
  }
  return out;
}

}  // namespace sagbench::config
