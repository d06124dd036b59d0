#include "training/dataset_source.hpp"

#include <torch/torch.h>

#include <algorithm>

#include "core/error.hpp"

namespace pdestream::training {

TrajectoryStore::TrajectoryStore(const std::string& path, std::size_t cache_bytes, NamedValues extra)
    : reader_(path), extra_(std::move(extra)), cache_bytes_(cache_bytes) {
  const auto& l = layout();
  PDS_CHECK(l.num_samples > 0, path << ": the dataset has no samples");
  param_names_ = l.param_names;
  for (const auto& [name, value] : extra_) {
    PDS_CHECK(std::find(param_names_.begin(), param_names_.end(), name) == param_names_.end(),
              path << ": parameter " << name << " is given as [data] params (or --param), but the file has it too");
    param_names_.push_back(name);
  }
  trajectory_bytes_ = sizeof(float) * l.grid.num_points() * l.channels.size() * l.num_times();
}

surrogates::TrajectoryShape TrajectoryStore::shape() const {
  const auto& l = layout();
  surrogates::TrajectoryShape s;
  s.num_params = static_cast<std::int64_t>(param_names_.size());
  s.param_names = param_names_;
  s.num_times = l.num_times();
  s.channels = static_cast<std::int64_t>(l.channels.size());
  for (int a = 0; a < l.grid.dim; ++a) {
    s.spatial.push_back(l.grid.shape[a]);
    s.coordinates.push_back(l.grid.coordinates(a));
  }
  s.times = l.times;
  return s;
}

const surrogates::Trajectory& TrajectoryStore::get(std::int64_t n) {
  PDS_CHECK(n >= 0 && n < size(), path() << ": sample " << n << " out of range [0, " << size() << ")");
  auto it = cache_.find(n);
  if (it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.second);
    return it->second.first;
  }
  const auto& l = layout();
  auto raw = reader_.read_sample(static_cast<int>(n));  // [Nt, *spatial, C]
  ++reads_;
  std::vector<std::int64_t> sizes = {l.num_times()};
  for (int a = 0; a < l.grid.dim; ++a) sizes.push_back(l.grid.shape[a]);
  sizes.push_back(static_cast<std::int64_t>(l.channels.size()));
  auto t = torch::from_blob(raw.data(), sizes, torch::kFloat32).clone();
  // [Nt, *spatial, C] -> [Nt, C, *spatial]
  std::vector<std::int64_t> perm = {0, static_cast<std::int64_t>(sizes.size()) - 1};
  for (int a = 0; a < l.grid.dim; ++a) perm.push_back(1 + a);
  surrogates::Trajectory traj;
  traj.frames = t.permute(perm).contiguous();
  traj.times = l.times;
  traj.params = params(n);
  traj.validate();

  while (!lru_.empty() && (lru_.size() + 1) * trajectory_bytes_ > cache_bytes_) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(n);
  auto& slot = cache_[n];
  slot = {std::move(traj), lru_.begin()};
  return slot.first;
}

std::vector<double> TrajectoryStore::params(std::int64_t n) const {
  auto p = reader_.params(static_cast<int>(n));
  for (const auto& e : extra_) p.push_back(e.second);
  return p;
}

std::map<std::string, std::pair<double, double>> TrajectoryStore::param_ranges(
    const std::vector<std::int64_t>& ids) const {
  std::vector<std::vector<double>> rows;
  for (auto id : ids) rows.push_back(params(id));
  return surrogates::parameter_ranges(param_names_, rows);
}

DatasetSource::DatasetSource(std::shared_ptr<TrajectoryStore> store, std::shared_ptr<const surrogates::Task> task,
                             std::vector<std::int64_t> trajectories, std::int64_t global_batch, std::uint64_t seed,
                             int rank, int size, bool shuffle)
    : IndexedDataSource(
          [&] {
            PDS_CHECK(!trajectories.empty(), store->path() << ": no trajectories selected for this data source");
            const auto e = task->num_examples(store->shape());
            PDS_CHECK(e > 0, store->path() << ": task '" << task->kind() << "' finds no examples in trajectories of "
                                          << store->shape().num_times << " frames");
            return static_cast<std::int64_t>(trajectories.size()) * e;
          }(),
          global_batch, seed, rank, size, shuffle),
      store_(std::move(store)),
      task_(std::move(task)),
      trajectories_(std::move(trajectories)),
      per_trajectory_(task_->num_examples(store_->shape())) {}

surrogates::Example DatasetSource::example(std::int64_t index) const {
  const auto& traj = store_->get(trajectories_.at(index / per_trajectory_));
  return task_->example(traj, index % per_trajectory_);
}

IndexedDataSource::Loaded DatasetSource::load(const std::vector<std::int64_t>& indices) {
  std::vector<surrogates::Example> examples;
  examples.reserve(indices.size());
  for (auto i : indices) examples.push_back(example(i));
  if (examples.empty()) {
    // An empty shard still needs shaped tensors: take one example's shape, zero rows.
    auto e = surrogates::collate({example(0)});
    auto none = [](const torch::Tensor& t) { return t.defined() ? t.narrow(0, 0, 0) : t; };
    return {none(e.input), none(e.target), none(e.cond)};
  }
  auto batch = surrogates::collate(examples);
  return {batch.input, batch.target, batch.cond};
}

void fit_normalizers(const DatasetSource& source, surrogates::UnitGaussianNormalizerImpl& input,
                     surrogates::UnitGaussianNormalizerImpl& target, std::int64_t max_examples) {
  const auto n = source.examples_per_epoch();
  const auto take = std::min(n, max_examples);
  std::vector<surrogates::Example> chunk;
  auto flush = [&] {
    if (chunk.empty()) return;
    auto b = surrogates::collate(chunk);
    input.update(b.input);
    // Unrolled targets hold m frames: the normaliser sees each frame.
    target.update(b.target.dim() > 2 ? surrogates::frames_as_batch(b.target, target.channels()) : b.target);
    chunk.clear();
  };
  for (std::int64_t k = 0; k < take; ++k) {
    chunk.push_back(source.example(k * n / take));
    if (chunk.size() == 64) flush();
  }
  flush();
}

}  // namespace pdestream::training
