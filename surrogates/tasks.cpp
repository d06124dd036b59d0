#include "surrogates/tasks.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <mutex>

#include "core/error.hpp"
#include "surrogates/option_reader.hpp"

namespace pdestream::surrogates {

void Trajectory::validate() const {
  PDS_CHECK(frames.defined() && frames.dim() >= 3 && frames.dim() <= 5,
            "trajectory: expected frames [Nt, C, *spatial] with 1 to 3 spatial axes, got " << shape_str(frames));
  PDS_CHECK(frames.size(0) == static_cast<std::int64_t>(times.size()),
            "trajectory: expected " << times.size() << " frames (one per time), got " << frames.size(0));
  PDS_CHECK(frames.scalar_type() == torch::kFloat32,
            "trajectory: expected float32 frames, got " << frames.scalar_type());
}

TrajectoryShape TrajectoryShape::of(const Trajectory& t) {
  t.validate();
  TrajectoryShape s;
  s.num_params = static_cast<std::int64_t>(t.params.size());
  s.num_times = t.frames.size(0);
  s.channels = t.frames.size(1);
  s.spatial.assign(t.frames.sizes().begin() + 2, t.frames.sizes().end());
  return s;
}

std::int64_t TrajectoryShape::num_points() const {
  std::int64_t n = 1;
  for (auto s : spatial) n *= s;
  return n;
}

Example collate(const std::vector<Example>& examples) {
  PDS_CHECK(!examples.empty(), "collate: expected at least one example, got none");
  std::vector<torch::Tensor> in, out, cond;
  for (const auto& e : examples) {
    in.push_back(e.input);
    out.push_back(e.target);
    if (e.cond.defined()) cond.push_back(e.cond);
  }
  PDS_CHECK(cond.empty() || cond.size() == examples.size(),
            "collate: expected every example or none to carry a condition, got " << cond.size() << " of "
                                                                                 << examples.size());
  return {torch::stack(in), torch::stack(out), cond.empty() ? torch::Tensor() : torch::stack(cond)};
}

Example Task::example(const Trajectory& trajectory, std::int64_t i) const {
  auto e = make_example(trajectory, i);
  // (A task may make its own cond, as the pointwise task's sensors do.)
  if (!condition_.empty()) e.cond = condition_vector(trajectory);
  return e;
}

torch::Tensor Task::condition_vector(const Trajectory& trajectory) const {
  return condition_.empty() ? torch::Tensor() : condition_.vector(trajectory.params);
}

ModelShape Task::model_shape(const TrajectoryShape& shape) const {
  auto m = make_model_shape(shape);
  if (!condition_.empty()) m.cond_dim = condition_.size();
  return m;
}

nlohmann::json Task::options_json() const {
  auto j = own_options();
  condition_.to_json(j);
  resolution_.to_json(j);
  return j;
}

torch::Tensor Task::shape_field(const torch::Tensor& field) const {
  return layout_ == Layout::Vector ? field.reshape({-1}) : field;
}

namespace {

void check_index(const char* kind, std::int64_t i, std::int64_t n) {
  PDS_CHECK(i >= 0 && i < n, kind << ": example index " << i << " out of range: expected 0.." << n - 1);
}

// Resolve a possibly negative frame index against Nt.
std::int64_t frame_index(const char* what, std::int64_t index, std::int64_t nt) {
  const std::int64_t i = index < 0 ? nt + index : index;
  PDS_CHECK(i >= 0 && i < nt, "operator task: " << what << " = " << index << ": expected an index into "
                                                << nt << " frames (-" << nt << ".." << nt - 1 << ")");
  return i;
}

ModelShape field_shape(const TrajectoryShape& s, std::int64_t in, std::int64_t out) {
  ModelShape m;
  m.dim = static_cast<int>(s.spatial.size());
  m.in_channels = in;
  m.out_channels = out;
  m.spatial = s.spatial;
  return m;
}

ModelShape vector_shape(std::int64_t in, std::int64_t out) {
  ModelShape m;
  m.in_channels = in;
  m.out_channels = out;
  return m;
}

class FieldAtTimeTask : public Task {
 public:
  FieldAtTimeTask(OptionReader& r, Layout layout) : Task(layout) {
    include_initial_ = r.get_bool("include_initial", true);
    coordinates_ = r.get_bool("coordinates", false);
    PDS_CHECK(!coordinates_ || layout == Layout::Field,
              r.where("coordinates") << ": expected false for a vector model (MLP), which sees no grid");
  }
  std::string kind() const override { return "field_at_time"; }
  std::int64_t num_examples(const TrajectoryShape& s) const override {
    return include_initial_ ? s.num_times : std::max<std::int64_t>(s.num_times - 1, 0);
  }
  std::int64_t input_channels(const TrajectoryShape& s) const override {
    return s.num_params + 1 + (coordinates_ ? static_cast<std::int64_t>(s.spatial.size()) : 0);
  }
  ModelShape make_model_shape(const TrajectoryShape& s) const override {
    if (layout() == Layout::Vector) return vector_shape(s.num_params + 1, s.channels * s.num_points());
    return field_shape(s, input_channels(s), s.channels);
  }
  Example make_example(const Trajectory& t, std::int64_t i) const override {
    const auto s = TrajectoryShape::of(t);
    check_index("field_at_time", i, num_examples(s));
    const std::int64_t frame = include_initial_ ? i : i + 1;
    std::vector<float> scalars(t.params.begin(), t.params.end());
    scalars.push_back(static_cast<float>(t.times[frame]));
    auto values = torch::tensor(scalars, torch::kFloat32);
    auto target = shape_field(t.frames[frame]);
    if (layout() == Layout::Vector) return {values, target};
    // Parameters and time as constant channels over the grid.
    std::vector<std::int64_t> view{static_cast<std::int64_t>(scalars.size())};
    std::vector<std::int64_t> expand = view;
    for (auto n : s.spatial) {
      view.push_back(1);
      expand.push_back(n);
    }
    auto input = values.view(view).expand(expand);
    if (coordinates_) {
      std::vector<torch::Tensor> channels{input};
      const int d = static_cast<int>(s.spatial.size());
      for (int a = 0; a < d; ++a) {
        std::vector<std::int64_t> v(d + 1, 1);
        v[1 + a] = s.spatial[a];
        std::vector<std::int64_t> e{1};
        e.insert(e.end(), s.spatial.begin(), s.spatial.end());
        channels.push_back(torch::linspace(0.0, 1.0, s.spatial[a], torch::kFloat32).view(v).expand(e));
      }
      input = torch::cat(channels, 0);
    }
    return {input.contiguous(), target};
  }
  nlohmann::json own_options() const override {
    return {{"kind", kind()}, {"include_initial", include_initial_}, {"coordinates", coordinates_}};
  }

 private:
  bool include_initial_ = true;
  bool coordinates_ = false;
};

class OperatorTask : public Task {
 public:
  OperatorTask(OptionReader& r, Layout layout) : Task(layout) {
    input_index_ = r.get_int("input_index", 0);
    t_index_ = r.get_int("t_index", -1);
  }
  std::string kind() const override { return "operator"; }
  std::int64_t num_examples(const TrajectoryShape& s) const override {
    frame_index("input_index", input_index_, s.num_times);
    frame_index("t_index", t_index_, s.num_times);
    return 1;
  }
  std::int64_t input_channels(const TrajectoryShape& s) const override { return s.channels; }
  ModelShape make_model_shape(const TrajectoryShape& s) const override {
    if (layout() == Layout::Vector) return vector_shape(s.channels * s.num_points(), s.channels * s.num_points());
    return field_shape(s, s.channels, s.channels);
  }
  Example make_example(const Trajectory& t, std::int64_t i) const override {
    const auto s = TrajectoryShape::of(t);
    check_index("operator", i, num_examples(s));
    return {shape_field(t.frames[frame_index("input_index", input_index_, s.num_times)]),
            shape_field(t.frames[frame_index("t_index", t_index_, s.num_times)])};
  }
  nlohmann::json own_options() const override {
    return {{"kind", kind()}, {"input_index", input_index_}, {"t_index", t_index_}};
  }

 private:
  std::int64_t input_index_ = 0;
  std::int64_t t_index_ = -1;
};

class AutoregressiveTask : public Task {
 public:
  AutoregressiveTask(OptionReader& r, Layout layout) : Task(layout) {
    history_ = r.get_int("history", 1, 1, 1000);
    horizon_ = r.get_int("horizon", 0, 0);
    unroll_ = r.get_int("unroll", 1, 1, 1000);
    stride_ = r.get_int("stride", 1, 1, 100000);
    PDS_CHECK(unroll_ == 1 || layout == Layout::Field,
              r.where("unroll") << ": unrolled targets need a field model (fno, unet), got a vector model");
  }
  std::string kind() const override { return "autoregressive"; }
  std::int64_t num_examples(const TrajectoryShape& s) const override {
    PDS_CHECK(s.num_times > history_, "autoregressive task: history = " << history_ << " needs more than "
                                                                        << history_ << " frames per trajectory, got "
                                                                        << s.num_times);
    // The frames an example spans: history + unroll of them, `stride` apart.
    const auto span = stride_ * (history_ + unroll_ - 1) + 1;
    PDS_CHECK(s.num_times >= span, "autoregressive task: history = "
                                       << history_ << " and unroll = " << unroll_
                                       << (stride_ > 1 ? " at stride = " + std::to_string(stride_) : std::string())
                                       << " need at least " << span << " frames per trajectory, got " << s.num_times);
    return s.num_times - span + 1;
  }
  std::int64_t input_channels(const TrajectoryShape& s) const override { return history_ * s.channels; }
  ModelShape make_model_shape(const TrajectoryShape& s) const override {
    if (layout() == Layout::Vector)
      return vector_shape(history_ * s.channels * s.num_points(), s.channels * s.num_points());
    return field_shape(s, history_ * s.channels, s.channels);
  }
  Example make_example(const Trajectory& t, std::int64_t i) const override {
    const auto s = TrajectoryShape::of(t);
    check_index("autoregressive", i, num_examples(s));
    // Every phase of the stride makes examples (pdearena draws a random phase per sample).
    const auto frames = t.frames.narrow(0, i, stride_ * (history_ + unroll_ - 1) + 1).slice(0, 0, {}, stride_);
    // Frames i, i + stride, ... stacked on channels, oldest first: [k * C, *spatial].
    auto past = frames.narrow(0, 0, history_).flatten(0, 1);
    // The next `unroll` frames, stacked on channels the same way: [m * C, *spatial].
    auto next = frames.narrow(0, history_, unroll_).flatten(0, 1);
    return {shape_field(past), shape_field(next)};
  }
  nlohmann::json own_options() const override {
    nlohmann::json o = {{"kind", kind()}, {"history", history_}, {"horizon", horizon_}, {"unroll", unroll_}};
    if (stride_ > 1) o["stride"] = stride_;
    return o;
  }

 private:
  std::int64_t history_ = 1;
  std::int64_t horizon_ = 0;
  std::int64_t unroll_ = 1;
  std::int64_t stride_ = 1;
};

class PointwiseTask : public Task {
 public:
  PointwiseTask(OptionReader& r, Layout layout) : Task(layout) {
    PDS_CHECK(layout == Layout::Vector, r.where("kind") << ": the pointwise task needs a model that takes points "
                                                          "(mlp, deeponet), got a field model");
    points_ = r.get_int("points", 256, 1, 1 << 24);
    include_initial_ = r.get_bool("include_initial", true);
    branch_ = r.get_string("branch", "condition", {"condition", "sensors"});
    sensors_ = r.get_int("sensors", 0, 0, 1 << 20);
    PDS_CHECK((branch_ == "sensors") == (sensors_ > 0),
              r.where("sensors") << ": expected sensors >= 1 exactly when branch = \"sensors\", got " << sensors_
                                 << " with branch = \"" << branch_ << "\"");
    seed_ = static_cast<std::uint64_t>(r.get_int("seed", 0, 0));
    if (r.has("domain")) {
      for (const auto& [lo, hi] : r.get_ranges("domain")) {
        PDS_CHECK(lo < hi, r.where("domain") << ": expected [low, high] with low < high, got [" << lo << ", " << hi << "]");
        lower_.push_back(lo);
        upper_.push_back(hi);
      }
    } else {
      r.accept("domain");
    }
    if (r.has("time_range")) {
      auto t = r.get_ranges("time_range");
      PDS_CHECK(t.size() == 1, r.where("time_range") << ": expected one [t0, t1] pair, got " << t.size());
      t0_ = t[0].first;
      t1_ = t[0].second;
      has_time_ = true;
    } else {
      r.accept("time_range");
    }
  }
  std::string kind() const override { return "pointwise"; }
  std::int64_t frames(const TrajectoryShape& s) const { return include_initial_ ? s.num_times : s.num_times - 1; }
  std::int64_t num_examples(const TrajectoryShape& s) const override {
    const auto total = frames(s) * s.num_points();
    PDS_CHECK(total > 0, "pointwise task: no points in " << s.num_times << " frames");
    return (total + points_ - 1) / points_;
  }
  std::int64_t input_channels(const TrajectoryShape& s) const override {
    return static_cast<std::int64_t>(s.spatial.size()) + 1;
  }
  ModelShape make_model_shape(const TrajectoryShape& s) const override {
    PDS_CHECK(branch_ == "sensors" || !condition().empty(),
              "pointwise task: the branch input is the condition, but [task] condition names no parameter "
              "(name some, or set branch = \"sensors\")");
    ModelShape m;
    m.in_channels = input_channels(s);
    m.out_channels = s.channels;
    m.cond_dim = branch_ == "sensors" ? s.channels * sensors_ : 0;
    return m;
  }
  Example make_example(const Trajectory& t, std::int64_t i) const override {
    const auto s = TrajectoryShape::of(t);
    const auto n = num_examples(s);
    check_index("pointwise", i, n);
    const auto total = frames(s) * s.num_points();
    auto perm = permutation(total);
    auto idx = torch::arange(i * points_, (i + 1) * points_, torch::kInt64).remainder(total);
    return at_points(t, s, perm.index_select(0, idx));
  }
  // Physical points [M, D] (grid axes, then time) as model input [D, M], scaled as the grid.
  torch::Tensor scale(const torch::Tensor& coords) const {
    PDS_CHECK(!lower_.empty() && has_time_, "pointwise task: used before it was bound to the data's grid");
    const auto d = static_cast<std::int64_t>(lower_.size()) + 1;
    PDS_CHECK(coords.dim() == 2 && coords.size(1) == d,
              "pointwise task: expected points [M, " << d << "] (grid axes, then time), got " << shape_str(coords));
    std::vector<double> lo = lower_, hi = upper_;
    lo.push_back(t0_);
    hi.push_back(t1_);
    auto low = torch::tensor(lo, torch::kFloat64), high = torch::tensor(hi, torch::kFloat64);
    return (2.0 * (coords.to(torch::kFloat64) - low) / (high - low) - 1.0).t().to(torch::kFloat32).contiguous();
  }
  // Every point, time-major.
  Example all_points(const Trajectory& t, std::int64_t* nframes) const {
    const auto s = TrajectoryShape::of(t);
    if (nframes) *nframes = frames(s);
    return at_points(t, s, torch::arange(frames(s) * s.num_points(), torch::kInt64));
  }
  nlohmann::json own_options() const override {
    nlohmann::json j = {{"kind", kind()},       {"points", points_}, {"include_initial", include_initial_},
                        {"branch", branch_},    {"sensors", sensors_}, {"seed", seed_}};
    if (!lower_.empty()) {
      j["domain"] = nlohmann::json::array();
      for (std::size_t a = 0; a < lower_.size(); ++a) j["domain"].push_back({lower_[a], upper_[a]});
    }
    if (has_time_) j["time_range"] = nlohmann::json::array({nlohmann::json::array({t0_, t1_})});
    return j;
  }

 protected:
  void bind_grid(const TrajectoryShape& s, const std::string& origin) override {
    PDS_CHECK(s.coordinates.size() == s.spatial.size() && !s.coordinates.empty(),
              "pointwise task: " << origin << " gives no grid coordinates");
    coordinates_ = s.coordinates;
    if (lower_.empty())
      for (const auto& c : coordinates_) {
        lower_.push_back(*std::min_element(c.begin(), c.end()));
        upper_.push_back(*std::max_element(c.begin(), c.end()));
        PDS_CHECK(upper_.back() > lower_.back(), "pointwise task: " << origin
                                                                    << " has a grid axis of one point; set [task] domain");
      }
    PDS_CHECK(lower_.size() == s.spatial.size(), "pointwise task: [task] domain has " << lower_.size()
                                                                                     << " axes, " << origin << " has "
                                                                                     << s.spatial.size());
    if (!has_time_) {
      PDS_CHECK(s.times.size() >= 2 && s.times.back() > s.times.front(),
                "pointwise task: " << origin << " gives no time axis; set [task] time_range = [[t0, t1]]");
      t0_ = s.times.front();
      t1_ = s.times.back();
      has_time_ = true;
    }
    // Scaled once per grid, not per example: examples only index into these.
    scaled_.clear();
    for (std::size_t a = 0; a < coordinates_.size(); ++a) {
      auto x = torch::tensor(coordinates_[a], torch::kFloat64);
      scaled_.push_back((2.0 * (x - lower_[a]) / (upper_[a] - lower_[a]) - 1.0).to(torch::kFloat32));
    }
  }

 private:
  // The same for every trajectory of a data set: made once (examples come from the server
  // and the training threads alike, hence the lock).
  torch::Tensor permutation(std::int64_t total) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_total_ != total) {
      auto g = at::detail::createCPUGenerator(seed_);
      cached_perm_ = torch::randperm(total, g, torch::kInt64);
      cached_total_ = total;
    }
    return cached_perm_;
  }
  // Point p = frame f * N + grid index n (f counted from the first used frame).
  Example at_points(const Trajectory& t, const TrajectoryShape& s, const torch::Tensor& p) const {
    PDS_CHECK(!coordinates_.empty() && has_time_, "pointwise task: used before it was bound to the data's grid");
    const auto npts = s.num_points();
    const auto first = include_initial_ ? 0 : 1;
    auto f = p.div(npts, "floor"), n = p.remainder(npts);
    std::vector<torch::Tensor> coords;
    // Grid index -> per-axis index (row-major, x slowest), then physical, then [-1, 1].
    auto rest = n.clone();
    std::vector<torch::Tensor> axis_index(s.spatial.size());
    for (int a = static_cast<int>(s.spatial.size()) - 1; a >= 0; --a) {
      axis_index[a] = rest.remainder(s.spatial[a]);
      rest = rest.div(s.spatial[a], "floor");
    }
    for (std::size_t a = 0; a < s.spatial.size(); ++a) {
      PDS_CHECK(static_cast<std::int64_t>(coordinates_[a].size()) == s.spatial[a],
                "pointwise task: bound to a grid of " << coordinates_[a].size() << " points on axis " << a
                                                      << ", the trajectory has " << s.spatial[a]);
      coords.push_back(scaled_[a].index_select(0, axis_index[a]));
    }
    auto times = torch::tensor(std::vector<double>(t.times.begin() + first, t.times.end()), torch::kFloat64);
    auto time = times.index_select(0, f);
    coords.push_back((2.0 * (time - t0_) / (t1_ - t0_) - 1.0).to(torch::kFloat32));
    Example e;
    e.input = torch::stack(coords, 0);  // [D, M]
    auto values = t.frames.narrow(0, first, frames(s)).reshape({frames(s), s.channels, npts});  // [F, C, N]
    e.target = values.permute({1, 0, 2}).reshape({s.channels, -1}).index_select(1, p);  // [C, M]
    if (branch_ == "sensors") {
      auto sensor = torch::linspace(0, static_cast<double>(npts - 1), sensors_, torch::kFloat64).round().to(torch::kInt64);
      e.cond = t.frames[0].reshape({s.channels, npts}).index_select(1, sensor).reshape({-1});
    }
    return e;
  }

  std::int64_t points_ = 256;
  bool include_initial_ = true;
  std::string branch_ = "condition";
  std::int64_t sensors_ = 0;
  std::uint64_t seed_ = 0;
  std::vector<double> lower_, upper_;  // the scaling to [-1, 1]
  std::vector<std::vector<double>> coordinates_;  // the bound data's grid
  std::vector<torch::Tensor> scaled_;              // its coordinates in [-1, 1], float32
  double t0_ = 0, t1_ = 1;
  bool has_time_ = false;
  mutable std::mutex mutex_;
  mutable std::int64_t cached_total_ = -1;
  mutable torch::Tensor cached_perm_;
};

// A task restricted to the first example of every trajectory (a rollout from the start).
class FirstExampleOnly : public Task {
 public:
  explicit FirstExampleOnly(std::unique_ptr<Task> inner) : Task(inner->layout()), inner_(std::move(inner)) {
    set_condition(inner_->condition());
    set_resolution(inner_->resolution());
  }
  std::string kind() const override { return inner_->kind(); }
  std::int64_t num_examples(const TrajectoryShape& s) const override { return std::min<std::int64_t>(inner_->num_examples(s), 1); }
  std::int64_t input_channels(const TrajectoryShape& s) const override { return inner_->input_channels(s); }
  Example make_example(const Trajectory& t, std::int64_t i) const override {
    check_index(kind().c_str(), i, num_examples(TrajectoryShape::of(t)));
    return inner_->example(t, i);
  }
  ModelShape make_model_shape(const TrajectoryShape& s) const override { return inner_->model_shape(s); }
  nlohmann::json own_options() const override { return inner_->options_json(); }

 private:
  std::unique_ptr<Task> inner_;
};

}  // namespace

std::vector<std::string> task_kinds() { return {"autoregressive", "field_at_time", "operator", "pointwise"}; }

torch::Tensor pointwise_input(const Task& task, const torch::Tensor& coords) {
  const auto* p = dynamic_cast<const PointwiseTask*>(&task);
  PDS_CHECK(p, "pointwise_input: expected a pointwise task, got " << task.kind());
  return p->scale(coords);
}

Example pointwise_all_points(const Task& task, const Trajectory& trajectory, std::int64_t* frames) {
  const auto* p = dynamic_cast<const PointwiseTask*>(&task);
  PDS_CHECK(p, "expected the pointwise task, got " << task.kind());
  auto e = p->all_points(trajectory, frames);
  if (!task.condition().empty()) e.cond = task.condition_vector(trajectory);
  return e;
}

Trajectory Resolution::apply(const Trajectory& t) const {
  if (identity()) return t;
  // slice() rather than index() with TensorIndex lists (see SpectralConvImpl::forward).
  auto frames = t.frames.slice(0, 0, c10::nullopt, this->t);
  for (std::int64_t a = 2; a < t.frames.dim(); ++a) frames = frames.slice(a, 0, c10::nullopt, x);
  Trajectory r;
  r.params = t.params;
  r.frames = frames.contiguous();
  for (std::size_t k = 0; k < t.times.size(); k += static_cast<std::size_t>(this->t)) r.times.push_back(t.times[k]);
  return r;
}

Resolution Resolution::read(OptionReader& reader) {
  Resolution r;
  r.x = reader.get_int("reduce_x", 1, 1, 1 << 20);
  r.t = reader.get_int("reduce_t", 1, 1, 1 << 20);
  return r;
}

void Resolution::to_json(nlohmann::json& options) const {
  if (x != 1) options["reduce_x"] = x;
  if (t != 1) options["reduce_t"] = t;
}

std::unique_ptr<Task> make_task(const std::string& kind, OptionReader& reader, Layout layout) {
  reader.accept("kind");
  auto condition = Condition::read(reader);
  const auto resolution = Resolution::read(reader);
  std::unique_ptr<Task> task;
  if (kind == "field_at_time")
    task = std::make_unique<FieldAtTimeTask>(reader, layout);
  else if (kind == "operator")
    task = std::make_unique<OperatorTask>(reader, layout);
  else if (kind == "autoregressive")
    task = std::make_unique<AutoregressiveTask>(reader, layout);
  else if (kind == "pointwise")
    task = std::make_unique<PointwiseTask>(reader, layout);
  else
    PDS_FAIL(reader.where("kind") << ": expected one of: autoregressive, field_at_time, operator, pointwise, got \"" << kind
                                  << "\"");
  reader.finish();
  task->set_condition(std::move(condition));
  task->set_resolution(resolution);
  return task;
}

std::unique_ptr<Task> make_task(SectionReader& section, Layout layout) {
  SectionOptionReader reader(section);
  return make_task(section.get_string("kind", std::nullopt, task_kinds()), reader, layout);
}

std::unique_ptr<Task> make_task_from_json(const nlohmann::json& options, Layout layout, const std::string& origin) {
  JsonOptionReader reader(options, origin, "task");
  return make_task(reader.get_string("kind", std::nullopt, task_kinds()), reader, layout);
}

std::unique_ptr<Task> rollout_validation_task(const Task& task, const TrajectoryShape& shape) {
  PDS_CHECK(task.kind() == "autoregressive", "[training] validate_rollout: expected the autoregressive task, got "
                                                 << task.kind());
  auto options = task.options_json();
  const auto history = options.at("history").get<std::int64_t>();
  const auto horizon = options.at("horizon").get<std::int64_t>();
  const auto stride = options.value("stride", std::int64_t(1));
  // Model steps after the history, from the first frame on (phase 0 of the stride).
  const auto rest = (shape.num_times - 1 - (history - 1) * stride) / stride;
  PDS_CHECK(rest >= 1, "[training] validate_rollout: history = " << history << " leaves no frame to predict in "
                                                                 << shape.num_times << " frames");
  options["unroll"] = horizon > 0 ? std::min(horizon, rest) : rest;
  auto rollout = make_task_from_json(options, task.layout(), "[training] validate_rollout");
  rollout->set_condition(task.condition());
  // Only the first window of each trajectory: one rollout from its initial history.
  return std::make_unique<FirstExampleOnly>(std::move(rollout));
}

torch::Tensor frames_as_batch(const torch::Tensor& stacked, std::int64_t channels) {
  PDS_CHECK(stacked.dim() >= 2 && channels > 0 && stacked.size(1) % channels == 0,
            "expected [B, m * " << channels << ", ...] stacked frames, got " << shape_str(stacked));
  std::vector<std::int64_t> sizes = {-1, channels};
  sizes.insert(sizes.end(), stacked.sizes().begin() + 2, stacked.sizes().end());
  return stacked.reshape(sizes);
}

torch::Tensor rollout(Surrogate& model, const torch::Tensor& initial_frames, std::int64_t steps,
                      const UnitGaussianNormalizerImpl* input_normalizer,
                      const UnitGaussianNormalizerImpl* target_normalizer, const torch::Tensor& cond) {
  PDS_CHECK(initial_frames.defined() && initial_frames.dim() >= 4 && initial_frames.dim() <= 6,
            "rollout: expected initial frames [B, k, C, *spatial], got " << shape_str(initial_frames));
  PDS_CHECK(steps >= 0, "rollout: expected steps >= 0, got " << steps);
  const auto b = initial_frames.size(0);
  const auto k = initial_frames.size(1);
  std::vector<std::int64_t> frame_shape(initial_frames.sizes().begin() + 2, initial_frames.sizes().end());
  std::vector<std::int64_t> out_shape{b};
  out_shape.insert(out_shape.end(), frame_shape.begin(), frame_shape.end());

  auto window = initial_frames;
  std::vector<torch::Tensor> predictions;
  for (std::int64_t s = 0; s < steps; ++s) {
    auto x = window.flatten(1, 2);  // [B, k * C, *spatial]
    if (model.layout() == Layout::Vector) x = x.reshape({b, -1});
    if (input_normalizer) x = input_normalizer->encode(x);
    auto y = model.infer(x, cond);
    if (target_normalizer) y = target_normalizer->decode(y);
    PDS_CHECK(y.numel() == window[0][0].numel() * b,
              "rollout: the model predicts " << shape_str(y) << " but a frame is " << shape_str(out_shape));
    y = y.reshape(out_shape);
    predictions.push_back(y);
    window = torch::cat({window.narrow(1, 1, k - 1), y.unsqueeze(1)}, 1);
  }
  if (predictions.empty()) {
    std::vector<std::int64_t> empty{b, 0};
    empty.insert(empty.end(), frame_shape.begin(), frame_shape.end());
    return torch::zeros(empty, initial_frames.options());
  }
  return torch::stack(predictions, 1);
}

}  // namespace pdestream::surrogates
