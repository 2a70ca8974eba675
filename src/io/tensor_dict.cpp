// TensorDict (see tensor_dict.h). Lookups are linear: dicts hold at most a few
// thousand entries and are looked up once each when loading.
#include "io/tensor_dict.h"

#include "core/error.h"

namespace sagbench::io {

void TensorDict::insert(const std::string& name, at::Tensor tensor, const std::string& source) {
  SAG_REQUIRE(find(name) == nullptr, kFormat, "{}: duplicate tensor name '{}'", source, name);
  items_.emplace_back(name, std::move(tensor));
}

const at::Tensor* TensorDict::find(const std::string& name) const {
  for (const auto& [key, value] : items_) {
    if (key == name) {
      return &value;
    }
  }
  return nullptr;
}

const at::Tensor& TensorDict::at(const std::string& name) const {
  const at::Tensor* tensor = find(name);
  SAG_REQUIRE(tensor != nullptr, kFormat, "no tensor named '{}'", name);
  return *tensor;
}

std::vector<std::string> TensorDict::names() const {
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& item : items_) {
    out.push_back(item.first);
  }
  return out;
}

}  // namespace sagbench::io
