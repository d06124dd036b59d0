#include "online_training/checkpoint_files.hpp"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "training/trainer.hpp"

namespace pdestream::online_training {

namespace fs = std::filesystem;

namespace {

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes() << " " << t.dtype();
  return os.str();
}

}  // namespace

std::string state_path(const std::string& dir, std::int64_t step) {
  return dir + "/online_state_" + std::to_string(step) + ".json";
}

std::string buffer_path(const std::string& dir, int rank, std::int64_t step) {
  return dir + "/buffer_" + std::to_string(rank) + "_" + std::to_string(step) + ".pt";
}

void write_online_state(const std::string& path, std::int64_t step, const CoordinatorState& state) {
  const nlohmann::json j = {{"step", step}, {"coordinator", state.to_json()}};
  {
    std::ofstream out(path + ".tmp");
    out << j.dump(1);
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(path + ".tmp", ec);
      PDS_FAIL("cannot write " << path << ".tmp (disk full?)");
    }
  }
  fs::rename(path + ".tmp", path);
}

CoordinatorState read_online_state(const std::string& path, std::int64_t step) {
  PDS_CHECK(fs::exists(path), "--resume: " << path << " is missing (checkpoint.pt is at step " << step << ")");
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const char* expected = "expected the coordinator's accounts written with checkpoint.pt";
  const auto j = nlohmann::json::parse(text, nullptr, false);
  PDS_CHECK(!j.is_discarded(), "--resume: " << path << " is not valid JSON (" << text.size()
                                            << " bytes; truncated?); " << expected);
  CoordinatorState state;
  std::int64_t stored = 0;
  PDS_CHECK(j.is_object() && j.contains("step") && j.contains("coordinator"),
            "--resume: " << path << " has no \"step\" and \"coordinator\"; " << expected);
  try {
    stored = json_int(j.at("step"), "step");
    state = CoordinatorState::from_json(j.at("coordinator"));
  } catch (const nlohmann::json::exception& e) {
    PDS_FAIL("--resume: " << path << ": " << first_line(e.what()) << "; " << expected);
  } catch (const Error& e) {
    PDS_FAIL("--resume: " << path << ": " << e.message() << "; " << expected);
  }
  PDS_CHECK(stored == step, "--resume: " << path << " holds step " << stored << ", expected " << step);
  // Every sample the accounts name was drawn before the recorded position.
  for (const auto* set : {&state.done, &state.redrawn, &state.skipped}) {
    if (set->empty()) continue;
    const auto low = *set->begin(), high = *set->rbegin();
    PDS_CHECK(low >= 0 && static_cast<std::uint64_t>(high) < state.position,
              "--resume: " << path << ": sample numbers must lie in [0, position = " << state.position << "), found "
                           << (low < 0 ? low : high));
  }
  PDS_CHECK(state.failures >= 0, "--resume: " << path << ": failures = " << state.failures << ", expected >= 0");
  for (const auto& [reason, count] : state.failure_reasons)
    PDS_CHECK(count >= 0, "--resume: " << path << ": failure count of \"" << printable(reason) << "\" is " << count
                                       << ", expected >= 0");
  return state;
}

void save_samples(const std::string& path, const std::vector<Sample>& samples, const surrogates::Task& task) {
  torch::serialize::OutputArchive a;
  std::vector<std::int64_t> meta;
  std::vector<torch::Tensor> in, out, cond;
  for (const auto& s : samples) {
    meta.insert(meta.end(), {s.sim_id, s.index, s.seen});
    const auto e = example_of(s, &task);
    in.push_back(e.input);
    out.push_back(e.target);
    if (e.cond.defined()) cond.push_back(e.cond);
  }
  a.write("count", torch::tensor(static_cast<std::int64_t>(samples.size())));
  a.write("meta", torch::tensor(meta, torch::kInt64));
  if (!samples.empty()) {
    a.write("input", torch::stack(in));
    a.write("target", torch::stack(out));
    if (!cond.empty()) a.write("cond", torch::stack(cond));
  }
  training::write_archive(a, path + ".tmp");
  fs::rename(path + ".tmp", path);
}

std::vector<Sample> load_samples(const std::string& path) {
  PDS_CHECK(fs::exists(path), "--resume: " << path << " is missing (was the job resumed with another "
                                                      "[online] trainer_ranks?)");
  const char* expected = "expected a buffer file written by pdestream's online checkpoint";
  torch::serialize::InputArchive a;
  torch::Tensor count, meta, in, out, cond;
  try {
    a.load_from(path);
  } catch (const c10::Error& e) {
    PDS_FAIL("--resume: " << path << " cannot be read (" << first_line(e.what_without_backtrace()) << "); "
                          << expected);
  }
  auto require = [&](const char* key, torch::Tensor& t) {
    PDS_CHECK(a.try_read(key, t), "--resume: " << path << " has no '" << key << "' tensor; " << expected);
  };
  require("count", count);
  require("meta", meta);
  PDS_CHECK(count.dim() == 0 && count.scalar_type() == torch::kInt64 && count.item<std::int64_t>() >= 0,
            "--resume: " << path << ": 'count' is " << shape_of(count) << ", expected a non-negative int64 scalar");
  const auto n = count.item<std::int64_t>();
  PDS_CHECK(meta.dim() == 1 && meta.scalar_type() == torch::kInt64 && meta.size(0) == 3 * n,
            "--resume: " << path << ": 'meta' is " << shape_of(meta) << ", expected int64 [" << 3 * n
                         << "] (sim, index, seen) for " << n << " samples");
  std::vector<Sample> samples;
  if (n == 0) return samples;
  require("input", in);
  require("target", out);
  const bool has_cond = a.try_read("cond", cond);
  for (const auto& [name, t] : {std::pair<const char*, const torch::Tensor*>{"input", &in}, {"target", &out},
                                {"cond", has_cond ? &cond : nullptr}}) {
    if (!t) continue;
    PDS_CHECK(t->dim() >= 1 && t->size(0) == n && t->is_floating_point(),
              "--resume: " << path << ": '" << name << "' is " << shape_of(*t) << ", expected floating point with "
                           << n << " samples along its first axis");
  }
  meta = meta.contiguous();
  auto m = meta.accessor<std::int64_t, 1>();
  for (std::int64_t i = 0; i < n; ++i) {
    PDS_CHECK(m[3 * i + 1] >= 0 && m[3 * i + 2] >= 0,
              "--resume: " << path << ": sample " << i << " has example index " << m[3 * i + 1] << " and seen count "
                           << m[3 * i + 2] << ", expected both >= 0");
    samples.push_back(
        Sample{m[3 * i], m[3 * i + 1], in[i], out[i], m[3 * i + 2], has_cond ? cond[i] : torch::Tensor()});
  }
  return samples;
}

}  // namespace pdestream::online_training
