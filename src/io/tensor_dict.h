// An ordered name -> tensor map: what every tensor file reader returns and
// every writer takes (state dicts, npz archives, safetensors). Keeps the
// file's order so listings and round trips are stable.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

namespace sagbench::io {

class TensorDict {
 public:
  using Item = std::pair<std::string, at::Tensor>;

  // Adds a tensor; a duplicate name is a kFormat error naming `source`.
  void insert(const std::string& name, at::Tensor tensor, const std::string& source = "");
  bool contains(const std::string& name) const { return find(name) != nullptr; }
  // nullptr when absent.
  const at::Tensor* find(const std::string& name) const;
  // Throws kFormat naming the missing key when absent.
  const at::Tensor& at(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::vector<Item>& items() const { return items_; }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

 private:
  std::vector<Item> items_;
};

}  // namespace sagbench::io
