#include "training/dataset_source.hpp"

#include <torch/torch.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace pdestream::training {

TrajectoryStore::TrajectoryStore(const std::string& path, std::size_t cache_bytes, NamedValues extra)
    : TrajectoryStore(std::vector<File>{{path, std::move(extra)}}, cache_bytes) {}

TrajectoryStore::TrajectoryStore(const std::vector<File>& files, std::size_t cache_bytes) : cache_bytes_(cache_bytes) {
  PDS_CHECK(!files.empty(), "a dataset needs at least one file, got none");
  for (const auto& f : files) {
    Part part;
    part.reader = std::make_unique<io::DatasetReader>(f.path);
    part.extra = f.extra;
    part.offset = size_;
    const auto& l = part.reader->layout();
    PDS_CHECK(l.num_samples > 0, f.path << ": the dataset has no samples");
    auto names = l.param_names;
    for (const auto& [name, value] : f.extra) {
      PDS_CHECK(std::find(names.begin(), names.end(), name) == names.end(),
                f.path << ": parameter " << name << " is given as [data] params (or --param), but the file has it too");
      names.push_back(name);
    }
    if (parts_.empty()) {
      param_names_ = names;
      layout_ = l;
    } else {
      const auto& first = layout();
      const std::string& p0 = files.front().path;
      PDS_CHECK(l.grid.dim == first.grid.dim && l.grid.shape == first.grid.shape && l.channels == first.channels,
                f.path << ": expected the grid and channels of " << p0 << " (one dataset), got another grid or channels");
      PDS_CHECK(l.times.size() == first.times.size(), f.path << ": expected " << first.times.size() << " frames as in "
                                                             << p0 << ", got " << l.times.size());
      PDS_CHECK(names == param_names_, f.path << ": expected the parameters of " << p0 << " (" << join(param_names_)
                                              << "), got (" << join(names) << ")");
    }
    size_ += l.num_samples;
    parts_.push_back(std::move(part));
  }
  name_ = files.front().path + (files.size() > 1 ? " (+" + std::to_string(files.size() - 1) + " files)" : "");
  const auto& l = layout();
  trajectory_bytes_ = sizeof(float) * l.grid.num_points() * l.channels.size() * l.num_times();
}

void TrajectoryStore::set_resolution(const surrogates::Resolution& r) {
  const auto& full = parts_.front().reader->layout();
  io::DatasetLayout l = full;
  for (int a = 0; a < l.grid.dim; ++a) {
    const std::int64_t n = full.grid.shape[a], kept = surrogates::Resolution::kept(n, r.x);
    PDS_CHECK(kept >= 2, "[task] reduce_x = " << r.x << " leaves " << kept << " point(s) of " << n << " along axis "
                                              << a << " of " << path() << "; expected at least 2");
    // Every x-th point from the first: the same spacing times x, the last kept point the end.
    l.grid.shape[a] = static_cast<int>(kept);
    l.grid.upper[a] = full.grid.coordinate(a, static_cast<int>((kept - 1) * r.x));
    if (full.grid.periodic[a]) {
      PDS_CHECK(n % r.x == 0, "[task] reduce_x = " << r.x << " must divide the " << n << " points of periodic axis "
                                                    << a << " of " << path());
      l.grid.upper[a] = full.grid.upper[a];  // n / x points of x times the spacing
    }
  }
  l.times.clear();
  for (std::size_t k = 0; k < full.times.size(); k += static_cast<std::size_t>(r.t)) l.times.push_back(full.times[k]);
  PDS_CHECK(l.times.size() >= 2, "[task] reduce_t = " << r.t << " leaves " << l.times.size() << " frame(s) of "
                                                       << full.times.size() << " in " << path() << "; expected at least 2");
  l.grid.validate();
  layout_ = l;
  resolution_ = r;
  cache_.clear();
  lru_.clear();
  trajectory_bytes_ = sizeof(float) * l.grid.num_points() * l.channels.size() * l.num_times();
}

std::pair<std::int64_t, std::int64_t> TrajectoryStore::file_range(std::int64_t f) const {
  const auto& p = parts_.at(static_cast<std::size_t>(f));
  return {p.offset, p.offset + p.reader->layout().num_samples};
}

std::pair<const TrajectoryStore::Part*, int> TrajectoryStore::locate(std::int64_t n) const {
  PDS_CHECK(n >= 0 && n < size(), path() << ": sample " << n << " out of range [0, " << size() << ")");
  auto it = std::upper_bound(parts_.begin(), parts_.end(), n,
                             [](std::int64_t v, const Part& p) { return v < p.offset; });
  const Part& part = *std::prev(it);
  return {&part, static_cast<int>(n - part.offset)};
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
  auto [part, index] = locate(n);
  auto it = cache_.find(n);
  if (it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.second);
    return it->second.first;
  }
  const auto& l = part->reader->layout();
  auto raw = part->reader->read_sample(index);  // [Nt, *spatial, C]
  ++reads_;
  std::vector<std::int64_t> sizes = {l.num_times()};
  for (int a = 0; a < l.grid.dim; ++a) sizes.push_back(l.grid.shape[a]);
  sizes.push_back(static_cast<std::int64_t>(l.channels.size()));
  auto t = torch::from_blob(raw.data(), sizes, torch::kFloat32).clone();
  // [Nt, *spatial, C] -> [Nt, C, *spatial]
  std::vector<std::int64_t> perm = {0, static_cast<std::int64_t>(sizes.size()) - 1};
  for (int a = 0; a < l.grid.dim; ++a) perm.push_back(1 + a);
  surrogates::Trajectory full;
  full.frames = t.permute(perm).contiguous();
  full.times = l.times;
  full.params = params(n);
  auto traj = resolution_.apply(full);
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
  auto [part, index] = locate(n);
  auto p = part->reader->params(index);
  for (const auto& e : part->extra) p.push_back(e.second);
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
