#pragma once
// Offline data: trajectories of a pdestream or PDEBench HDF5 dataset, read lazily (one
// trajectory at a time, kept in a bounded LRU cache), turned into examples by a Task and
// batched by an EpochPlan (shuffled per epoch, sharded by rank).

#include <list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/hdf5_dataset.hpp"
#include "surrogates/normalizer.hpp"
#include "surrogates/tasks.hpp"
#include "training/data_source.hpp"

namespace pdestream::training {

// Parameter values a file does not hold (PDEBench's files name theirs only in the file
// name): [data] params = { beta = 0.4 }, evaluate --param beta=0.4.
using NamedValues = std::vector<std::pair<std::string, double>>;

class TrajectoryStore {
 public:
  // One file, or several read as one dataset (trajectories numbered file after file).
  struct File {
    std::string path;
    NamedValues extra;  // appended to every trajectory's parameters; a name the file has is an error
  };
  // `cache_bytes` bounds the memory of cached trajectories (at least one is always kept).
  explicit TrajectoryStore(const std::string& path, std::size_t cache_bytes = std::size_t(512) << 20,
                           NamedValues extra = {});
  // Every file must have the first one's grid, channels, times and parameter names.
  explicit TrajectoryStore(const std::vector<File>& files, std::size_t cache_bytes = std::size_t(512) << 20);

  // The first file's layout (grid, channels, times, as every file's); num_samples is that
  // file's: size() counts them all.
  // At the resolution set by set_resolution (grid, times).
  const io::DatasetLayout& layout() const { return layout_; }
  // Read every trajectory at a task's resolution (every x-th point, every t-th frame); the
  // layout, shape() and get() then describe the reduced data. Clears the cache.
  void set_resolution(const surrogates::Resolution& r);
  const surrogates::Resolution& resolution() const { return resolution_; }
  // The file, or "first.h5 (+k files)".
  const std::string& path() const { return name_; }
  std::int64_t size() const { return size_; }
  std::int64_t num_files() const { return static_cast<std::int64_t>(parts_.size()); }
  // Trajectories [begin, end) of file f.
  std::pair<std::int64_t, std::int64_t> file_range(std::int64_t f) const;
  surrogates::TrajectoryShape shape() const;
  // The files' parameter names, then the extra ones.
  const std::vector<std::string>& param_names() const { return param_names_; }
  // Trajectory n's parameter values (without reading its frames).
  std::vector<double> params(std::int64_t n) const;
  // [low, high] of every parameter over trajectories `ids`.
  std::map<std::string, std::pair<double, double>> param_ranges(const std::vector<std::int64_t>& ids) const;
  // Trajectory n as [Nt, C, *spatial] float32 (channels first, as the models take them).
  const surrogates::Trajectory& get(std::int64_t n);

  std::int64_t reads() const { return reads_; }

 private:
  io::DatasetLayout layout_;  // the first file's, at resolution_
  surrogates::Resolution resolution_;
  struct Part {
    std::unique_ptr<io::DatasetReader> reader;
    NamedValues extra;
    std::int64_t offset = 0;
  };
  // The part holding trajectory n and n's index in it.
  std::pair<const Part*, int> locate(std::int64_t n) const;

  std::vector<Part> parts_;
  std::string name_;
  std::int64_t size_ = 0;
  std::vector<std::string> param_names_;
  std::size_t cache_bytes_;
  std::size_t trajectory_bytes_;
  std::list<std::int64_t> lru_;  // most recent first
  std::unordered_map<std::int64_t, std::pair<surrogates::Trajectory, std::list<std::int64_t>::iterator>> cache_;
  std::int64_t reads_ = 0;
};

// Examples of a subset of a store's trajectories under a task.
class DatasetSource : public IndexedDataSource {
 public:
  DatasetSource(std::shared_ptr<TrajectoryStore> store, std::shared_ptr<const surrogates::Task> task,
                std::vector<std::int64_t> trajectories, std::int64_t global_batch, std::uint64_t seed, int rank,
                int size, bool shuffle = true);

  std::int64_t examples_per_trajectory() const { return per_trajectory_; }
  // Shuffle `trajectories` trajectories at a time (EpochPlan::set_windows; 0: all at once).
  void set_shuffle_window(std::int64_t trajectories) { plan().set_windows(per_trajectory_, trajectories); }
  const std::vector<std::int64_t>& trajectories() const { return trajectories_; }
  // Example `index` of this source (trajectory-major order).
  surrogates::Example example(std::int64_t index) const;

 protected:
  Loaded load(const std::vector<std::int64_t>& indices) override;

 private:
  std::shared_ptr<TrajectoryStore> store_;
  std::shared_ptr<const surrogates::Task> task_;
  std::vector<std::int64_t> trajectories_;
  std::int64_t per_trajectory_;
};

// Fit per-channel normalisers on at most `max_examples` examples of `source` (an evenly
// spaced, deterministic subset: every rank computes the same statistics without messages).
void fit_normalizers(const DatasetSource& source, surrogates::UnitGaussianNormalizerImpl& input,
                     surrogates::UnitGaussianNormalizerImpl& target, std::int64_t max_examples = 4096);

}  // namespace pdestream::training
