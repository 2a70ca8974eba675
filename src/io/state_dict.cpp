// Strict state-dict loading (see state_dict.h), after torch.nn.Module's
// load_state_dict / _load_from_state_dict: names are matched exactly, then
// shapes and dtypes; all problems are gathered before anything is copied so a
// failed load leaves the module untouched.
#include "io/state_dict.h"

#include <ATen/core/grad_mode.h>

#include <set>

#include "core/error.h"

namespace sagbench::io {
namespace {

void collect(const torch::nn::Module& module, const std::string& prefix, TensorDict& out) {
  for (const auto& item : module.named_parameters(/*recurse=*/false)) {
    out.insert(prefix + item.key(), item.value());
  }
  for (const auto& item : module.named_buffers(/*recurse=*/false)) {
    out.insert(prefix + item.key(), item.value());
  }
  for (const auto& child : module.named_children()) {
    collect(*child.value(), prefix + child.key() + ".", out);
  }
}

std::string shape_of(const at::Tensor& tensor) {
  return fmt::format("[{}]", fmt::join(tensor.sizes(), ", "));
}

// "N kind: a, b, c (and M more)"; empty when there are none.
std::string listing(const std::vector<std::string>& items, const char* kind, std::size_t max_listed) {
  if (items.empty()) {
    return "";
  }
  const std::size_t shown = std::min(items.size(), max_listed);
  std::string out =
      fmt::format("{} {}: {}", items.size(), kind,
                  fmt::join(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(shown), ", "));
  if (shown < items.size()) {
    out += fmt::format(" (and {} more)", items.size() - shown);
  }
  return out;
}

}  // namespace

TensorDict state_dict_of(const torch::nn::Module& module) {
  TensorDict out;
  collect(module, "", out);
  return out;
}

void load_state_dict(torch::nn::Module& module, const TensorDict& tensors, const std::string& source,
                     const LoadOptions& options) {
  const TensorDict expected = state_dict_of(module);
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  std::vector<std::string> bad_shape;
  std::vector<std::string> bad_dtype;
  for (const auto& [name, target] : expected.items()) {
    const at::Tensor* given = tensors.find(name);
    if (given == nullptr) {
      missing.push_back(name);
    } else if (!given->sizes().equals(target.sizes())) {
      bad_shape.push_back(fmt::format("{} (file {} vs model {})", name, shape_of(*given), shape_of(target)));
    } else if (given->scalar_type() != target.scalar_type() && !options.convert_dtype) {
      bad_dtype.push_back(fmt::format("{} (file {} vs model {})", name, c10::toString(given->scalar_type()),
                                      c10::toString(target.scalar_type())));
    }
  }
  for (const auto& item : tensors.items()) {
    if (!expected.contains(item.first)) {
      unexpected.push_back(item.first);
    }
  }
  if (!missing.empty() || !unexpected.empty() || !bad_shape.empty() || !bad_dtype.empty()) {
    std::vector<std::string> parts;
    for (const std::string& part :
         {listing(missing, "missing", options.max_listed),
          listing(unexpected, "unexpected", options.max_listed),
          listing(bad_shape, "with mismatched shapes", options.max_listed),
          listing(bad_dtype, "with mismatched dtypes (convert_dtype is off)", options.max_listed)}) {
      if (!part.empty()) {
        parts.push_back(part);
      }
    }
    SAG_FAIL(kShape, "{}: state dict does not match the model ({} tensors in the file, {} in the model): {}",
             source, tensors.size(), expected.size(), fmt::join(parts, "; "));
  }
  at::NoGradGuard no_grad;
  for (const auto& [name, target] : expected.items()) {
    at::Tensor destination = target;  // aliases the module's tensor
    destination.copy_(tensors.at(name));
  }
}

}  // namespace sagbench::io
