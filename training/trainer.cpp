#include "training/trainer.hpp"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/runtime.hpp"
#include "core/strings.hpp"
#include "surrogates/model_file.hpp"
#include "surrogates/registry.hpp"

namespace pdestream::training {

TrainerOptions TrainerOptions::from_section(SectionReader& s) {
  TrainerOptions o;
  o.epochs = s.get_int("epochs", o.epochs, 0);
  o.batch_size = s.get_int("batch_size", o.batch_size, 1);
  o.lr = s.get_double("lr", o.lr, 0.0, 10.0);
  o.optimizer = s.get_string("optimizer", o.optimizer, {"adam", "adamw"});
  o.weight_decay = s.get_double("weight_decay", o.weight_decay, 0.0);
  o.schedule = s.get_string("schedule", o.schedule, {"none", "step", "cosine"});
  o.step_every = s.get_int("step_every", o.step_every, 0);
  o.step_epochs = s.get_int("step_epochs", o.step_epochs, 1);
  o.warmup_steps = s.get_int("warmup_steps", o.warmup_steps, 0);
  o.gamma = s.get_double("gamma", o.gamma, 0.0, 1.0);
  o.min_lr = s.get_double("min_lr", o.min_lr, 0.0);
  o.loss = s.get_string("loss", o.loss, {"rel_l2", "mse"});
  o.objective = s.get_string("objective", o.objective, objective_names());
  o.objective_options = read_objective_options(o.objective, s);
  o.clip_grad_norm = s.get_double("clip_grad_norm", o.clip_grad_norm, 0.0);
  o.ema_decay = s.get_double("ema_decay", o.ema_decay, 0.0, 0.999999);
  o.normalize = s.get_bool("normalize", o.normalize);
  o.seed = static_cast<std::uint64_t>(s.get_int("seed", 0, 0));
  o.checkpoint_every = s.get_int("checkpoint_every", o.checkpoint_every, 0);
  o.validate_every = s.get_int("validate_every", o.validate_every, 0);
  o.validate_rollout = s.get_bool("validate_rollout", o.validate_rollout);
  o.log_every = s.get_int("log_every", o.log_every, 1);
  o.max_steps = s.get_int("max_steps", o.max_steps, 0);
  o.threads = static_cast<int>(s.get_int("threads", o.threads, 0, 1024));
  return o;
}

int default_threads(MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int local = 1;
  MPI_Comm_size(node, &local);
  MPI_Comm_free(&node);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / local);
}

namespace {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainerOptions& o, surrogates::Surrogate& model) {
  if (o.optimizer == "adamw")
    return std::make_unique<torch::optim::AdamW>(model.parameters(),
                                                 torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  return std::make_unique<torch::optim::Adam>(model.parameters(),
                                              torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) group.options().set_lr(lr);
}

double allreduce_sum(double v, MPI_Comm comm) {
  double out = 0;
  MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_SUM, comm);
  return out;
}

}  // namespace

Trainer::Trainer(std::shared_ptr<surrogates::Surrogate> model, TrainerOptions options, MPI_Comm comm,
                 std::string run_dir)
    : model_(std::move(model)), options_(std::move(options)), comm_(comm), run_dir_(std::move(run_dir)),
      allreduce_(comm) {
  PDS_CHECK(model_, "the trainer needs a model");
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  torch::set_num_threads(options_.threads > 0 ? options_.threads : default_threads(comm_));
  broadcast_parameters(*model_, comm_);
  optimizer_ = make_optimizer(options_, *model_);
  auto objective_options = options_.objective_options.is_object() ? options_.objective_options : nlohmann::json::object();
  objective_options["loss"] = options_.loss;
  const auto required = model_->training_objective();
  PDS_CHECK(required.empty() || required == options_.objective,
            "model " << model_->kind() << " trains with [training] objective = \"" << required << "\", got \""
                     << options_.objective << "\"");
  set_objective(make_objective(options_.objective, objective_options));
  if (options_.ema_decay > 0) {
    ema_ = surrogates::make_model_from_json(model_->options_json(), "EMA copy");
    torch::NoGradGuard no_grad;
    auto dst = ema_->parameters();
    auto src = model_->parameters();
    for (std::size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  if (rank_ == 0 && !run_dir_.empty()) {
    std::filesystem::create_directories(run_dir_);
    metrics_.open(run_dir_ + "/metrics.jsonl", std::ios::app);
  }
  start_ = std::chrono::steady_clock::now();
}

Trainer::~Trainer() = default;

void Trainer::set_objective(std::unique_ptr<Objective> objective) {
  PDS_CHECK(objective, "the trainer needs an objective");
  for (const auto& name : objective->term_names())
    PDS_CHECK(name != "loss" && name != "lr" && name != "step" && name != "epoch" && name != "time" &&
                  name != "samples_per_s",
              "objective " << objective->kind() << ": term name \"" << name << "\" is taken by the trainer's metrics");
  objective_ = std::move(objective);
}

void Trainer::set_normalizers(surrogates::UnitGaussianNormalizer input, surrogates::UnitGaussianNormalizer target) {
  if (!options_.normalize) return;  // the model sees and predicts physical units
  input_norm_ = std::move(input);
  target_norm_ = std::move(target);
}

double Trainer::learning_rate() const {
  return optimizer_->param_groups().front().options().get_lr();
}

double Trainer::scheduled_lr(std::int64_t step, std::int64_t steps_per_epoch) const {
  const auto& o = options_;
  const std::int64_t warmup = o.warmup_steps;
  if (warmup > 0 && step < warmup) return o.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (o.schedule == "step") {
    const std::int64_t period = o.step_every > 0 ? o.step_every : steps_per_epoch > 0 ? o.step_epochs * steps_per_epoch : 0;
    PDS_CHECK(period > 0, "[training] schedule = \"step\" counts step_epochs in epochs, and this data source's epoch "
                          "length is unknown (a stream): set training.step_every (in steps)");
    return o.lr * std::pow(o.gamma, static_cast<double>((step - warmup) / period));
  }
  if (o.schedule == "cosine") {
    const std::int64_t horizon = this->horizon(steps_per_epoch);
    PDS_CHECK(horizon > 0, "[training] schedule = \"cosine\" needs a horizon, and nothing gives one (no "
                           "training.max_steps, and this data source's epoch length is unknown): set training.max_steps");
    const double progress = std::min(1.0, static_cast<double>(step - warmup) /
                                              static_cast<double>(std::max<std::int64_t>(1, horizon - warmup)));
    return o.min_lr + 0.5 * (o.lr - o.min_lr) * (1 + std::cos(M_PI * progress));
  }
  return o.lr;
}

std::int64_t Trainer::horizon(std::int64_t steps_per_epoch) const {
  const auto& o = options_;
  return o.max_steps > 0 ? o.max_steps : steps_per_epoch > 0 ? o.epochs * steps_per_epoch : horizon_;
}

void Trainer::apply_schedule(std::int64_t steps_per_epoch) { set_lr(*optimizer_, scheduled_lr(step_, steps_per_epoch)); }

double Trainer::train_step(const Batch& batch) {
  model_->train();
  optimizer_->zero_grad();
  const auto names = objective_->term_names();
  // [loss sum, term sums...] over this shard, summed over ranks below.
  std::vector<double> sums(1 + names.size(), 0.0);
  if (batch.x.size(0) > 0) {
    ObjectiveInput in{batch,  *model_, input_norm_ ? input_norm_.get() : nullptr,
                      target_norm_ ? target_norm_.get() : nullptr, options_.seed, step_, horizon(steps_per_epoch_)};
    auto out = objective_->compute(in);
    auto sum = out.loss.sum();
    // Weighted so that the allreduced gradient is the global-batch mean's gradient.
    (sum / static_cast<double>(batch.global_size)).backward();
    sums[0] = sum.item<double>();
    for (std::size_t k = 0; k < names.size(); ++k) {
      auto it = out.terms.find(names[k]);
      PDS_CHECK(it != out.terms.end(), "objective " << objective_->kind() << " returned no term " << names[k]);
      sums[1 + k] = it->second.detach().sum().item<double>();
    }
  }
  allreduce_(*model_);
  if (options_.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(model_->parameters(), options_.clip_grad_norm);
  optimizer_->step();
  update_ema();
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM, comm_);
  for (std::size_t k = 0; k < names.size(); ++k) last_terms_[names[k]] = sums[1 + k] / static_cast<double>(batch.global_size);
  return sums[0] / static_cast<double>(batch.global_size);
}

void Trainer::update_ema() {
  if (!ema_) return;
  torch::NoGradGuard no_grad;
  auto dst = ema_->parameters();
  auto src = model_->parameters();
  for (std::size_t i = 0; i < src.size(); ++i) dst[i].mul_(options_.ema_decay).add_(src[i], 1.0 - options_.ema_decay);
}

torch::Tensor Trainer::predict(const torch::Tensor& x, const torch::Tensor& cond) {
  torch::NoGradGuard no_grad;
  auto& net = ema_ ? *ema_ : *model_;
  net.eval();
  auto pred = net.infer(input_norm_ ? input_norm_->encode(x) : x, cond);
  return target_norm_ ? target_norm_->decode(pred) : pred;
}

double Trainer::validate(DataSource& source) {
  source.begin_epoch(0);
  double sum = 0, count = 0;
  while (auto batch = source.next()) {
    if (batch->x.size(0) == 0) continue;
    auto pred = predict(batch->x, batch->cond);
    // Unrolled targets (m frames stacked on channels): predict them autoregressively.
    if (pred.dim() > 2 && pred.size(1) != batch->y.size(1) && batch->y.size(1) % pred.size(1) == 0) {
      const auto c = pred.size(1);
      std::vector<torch::Tensor> frames = {pred};
      auto window = batch->x;
      for (std::int64_t j = 1; j < batch->y.size(1) / c; ++j) {
        window = torch::cat({window.narrow(1, c, window.size(1) - c), frames.back()}, 1);
        frames.push_back(predict(window, batch->cond));
      }
      pred = torch::cat(frames, 1);
    }
    sum += relative_l2(pred, batch->y).sum().item<double>();
    count += static_cast<double>(batch->x.size(0));
  }
  const double total = allreduce_sum(count, comm_);
  PDS_CHECK(total > 0, "the validation set is empty");
  return allreduce_sum(sum, comm_) / total;
}

void Trainer::log(const std::map<std::string, double>& fields, const std::string& event) {
  if (rank_ != 0 || !metrics_.is_open()) return;
  nlohmann::json line = {{"event", event}};
  for (const auto& [k, v] : fields) line[k] = v;
  metrics_ << line.dump() << "\n" << std::flush;
}

void Trainer::progress_line(std::int64_t steps_per_epoch, double loss, double samples_per_s) {
  if (rank_ != 0) return;
  const double elapsed = elapsed_before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double total_steps = options_.max_steps > 0 ? options_.max_steps : static_cast<double>(options_.epochs * steps_per_epoch);
  const double eta = step_ > 0 ? elapsed / step_ * std::max(0.0, total_steps - step_) : 0.0;
  char line[256];
  std::snprintf(line, sizeof line, "[train] epoch %lld/%lld  step %lld  loss %.4e  val %s  %.0f samples/s  lr %.2e  ETA %.0fs",
                static_cast<long long>(epoch_), static_cast<long long>(options_.epochs), static_cast<long long>(step_),
                loss, last_validation_ >= 0 ? (std::ostringstream() << last_validation_).str().c_str() : "-",
                samples_per_s, learning_rate(), eta);
  if (progress_) {
    progress_(line);
    return;
  }
  std::puts(line);
  std::fflush(stdout);
}

void Trainer::fit(DataSource& train, DataSource* validation) {
  const std::int64_t per_epoch = train.batches_per_epoch();
  steps_per_epoch_ = per_epoch;
  auto since = std::chrono::steady_clock::now();
  double examples_since = 0;
  auto validate_now = [&] {
    if (!validation) return;
    last_validation_ = validate(*validation);
    log({{"step", double(step_)}, {"epoch", double(epoch_)}, {"val_rel_l2", last_validation_}}, "validation");
  };
  while (epoch_ < options_.epochs) {
    train.begin_epoch(epoch_, batch_in_epoch_);
    while (auto batch = train.next()) {
      apply_schedule(per_epoch);
      last_loss_ = train_step(*batch);
      PDS_CHECK(std::isfinite(last_loss_), "training diverged: loss is " << last_loss_ << " at step " << step_
                                                                          << " (lower training.lr or set clip_grad_norm)");
      ++step_;
      ++batch_in_epoch_;
      examples_since += static_cast<double>(batch->global_size);
      epoch_loss_sum_ += last_loss_ * static_cast<double>(batch->global_size);
      epoch_examples_ += static_cast<double>(batch->global_size);
      if (step_ % options_.log_every == 0) {
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
        std::map<std::string, double> f = {{"step", double(step_)},
                                           {"epoch", double(epoch_)},
                                           {"loss", last_loss_},
                                           {"lr", learning_rate()},
                                           {"samples_per_s", examples_since / std::max(dt, 1e-9)},
                                           {"time", elapsed_before_ + std::chrono::duration<double>(
                                                                          std::chrono::steady_clock::now() - start_)
                                                                          .count()}};
        for (const auto& [name, value] : last_terms_) f[name] = value;
        if (hook_) hook_(f);
        log(f, "step");
      }
      if (step_hook_) step_hook_(step_);
      if (options_.validate_every > 0 && step_ % options_.validate_every == 0) validate_now();
      if (options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0) save_checkpoint();
      if (options_.max_steps > 0 && step_ >= options_.max_steps) {
        save_checkpoint();
        return;
      }
    }
    ++epoch_;
    batch_in_epoch_ = 0;
    const double mean_loss = epoch_examples_ > 0 ? epoch_loss_sum_ / epoch_examples_ : last_loss_;
    epoch_loss_sum_ = epoch_examples_ = 0;
    if (options_.validate_every == 0) validate_now();
    save_checkpoint();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
    progress_line(per_epoch, mean_loss, examples_since / std::max(dt, 1e-9));
    log({{"step", double(step_)}, {"epoch", double(epoch_)}, {"loss", mean_loss}, {"last_loss", last_loss_}}, "epoch");
    if (epoch_hook_) epoch_hook_(epoch_ - 1, mean_loss);
    since = std::chrono::steady_clock::now();
    examples_since = 0;
  }
}

void write_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  // torch 1.13 reports a failed file write (a full disk) from a destructor, which
  // terminates the process: it writes to memory, and the file is written and checked here.
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file(path, bytes.str());
}

void Trainer::save_checkpoint() {
  if (run_dir_.empty()) return;
  if (checkpoint_hook_) checkpoint_hook_(step_);
  // Collective, so that a write that fails on rank 0 stops every rank with its message.
  collective_try(comm_, [&] {
    if (rank_ != 0) return;
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive, optimizer_archive;
    model_->save(model_archive);
    optimizer_->save(optimizer_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optimizer_archive);
    if (ema_) {
      torch::serialize::OutputArchive ema_archive;
      ema_->save(ema_archive);
      archive.write("ema", ema_archive);
    }
    if (input_norm_) {
      torch::serialize::OutputArchive a, b;
      input_norm_->save(a);
      target_norm_->save(b);
      archive.write("input_normalizer", a);
      archive.write("target_normalizer", b);
    }
    const double elapsed = elapsed_before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    archive.write("counters", torch::tensor({step_, epoch_, batch_in_epoch_}, torch::kInt64));
    archive.write("elapsed", torch::tensor(elapsed, torch::kFloat64));
    archive.write("epoch_loss", torch::tensor({epoch_loss_sum_, epoch_examples_}, torch::kFloat64));
    archive.write("rng", at::detail::getDefaultCPUGenerator().get_state());
    namespace fs = std::filesystem;
    const std::string tmp = checkpoint_path() + ".tmp";
    try {
      write_archive(archive, tmp);
    } catch (const Error& e) {
      PDS_FAIL("cannot write the step-" << step_ << " checkpoint: " << e.message() << "; " << checkpoint_path()
                                        << " is unchanged");
    }
    if (fs::exists(checkpoint_path())) fs::rename(checkpoint_path(), previous_checkpoint_path());
    fs::rename(tmp, checkpoint_path());
  });
}

bool Trainer::resume_if_possible() {
  namespace fs = std::filesystem;
  if (run_dir_.empty()) return false;
  const bool current = fs::exists(checkpoint_path()), previous = fs::exists(previous_checkpoint_path());
  if (!current && !previous) return false;
  std::string why;
  if (current) {
    try {
      load_checkpoint(checkpoint_path());
      return true;
    } catch (const Error& e) {
      PDS_CHECK(previous, e.message() << "; there is no " << previous_checkpoint_path() << " to fall back to");
      why = e.message();
    }
  } else {
    why = checkpoint_path() + " is missing (killed while renaming?)";
  }
  if (rank_ == 0)
    std::fprintf(stderr, "pdestream: warning: %s; resuming from the previous checkpoint %s\n", why.c_str(),
                 previous_checkpoint_path().c_str());
  try {
    load_checkpoint(previous_checkpoint_path());
  } catch (const Error& e) {
    PDS_FAIL(why << "; the previous checkpoint is unusable too: " << e.message());
  }
  return true;
}

void Trainer::load_checkpoint(const std::string& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception& e) {
    PDS_FAIL(path << ": cannot read the checkpoint (" << first_line(e.what()).substr(0, 120) << ")");
  }
  // A checkpoint that reads but lacks a part, or whose tensors do not fit, is as unusable.
  try {
    restore_checkpoint(archive, path);
  } catch (const c10::Error& e) {
    PDS_FAIL(path << ": incomplete or corrupt checkpoint (" << first_line(e.what_without_backtrace()).substr(0, 120)
                  << ")");
  }
}

void Trainer::restore_checkpoint(torch::serialize::InputArchive& archive, const std::string& path) {
  torch::serialize::InputArchive model_archive, optimizer_archive;
  archive.read("model", model_archive);
  archive.read("optimizer", optimizer_archive);
  try {
    model_->load(model_archive);
  } catch (const std::exception& e) {
    PDS_FAIL(path << ": the checkpoint does not fit this model (different [model] options?)");
  }
  optimizer_->load(optimizer_archive);
  if (ema_) {
    torch::serialize::InputArchive ema_archive;
    archive.read("ema", ema_archive);
    ema_->load(ema_archive);
  }
  if (input_norm_) {
    torch::serialize::InputArchive a, b;
    archive.read("input_normalizer", a);
    archive.read("target_normalizer", b);
    input_norm_->load(a);
    target_norm_->load(b);
  }
  torch::Tensor counters, elapsed, rng;
  archive.read("counters", counters);
  archive.read("elapsed", elapsed);
  archive.read("rng", rng);
  step_ = counters[0].item<std::int64_t>();
  epoch_ = counters[1].item<std::int64_t>();
  batch_in_epoch_ = counters[2].item<std::int64_t>();
  elapsed_before_ = elapsed.item<double>();
  torch::Tensor epoch_loss;
  if (archive.try_read("epoch_loss", epoch_loss)) {  // absent in checkpoints of older versions
    epoch_loss_sum_ = epoch_loss[0].item<double>();
    epoch_examples_ = epoch_loss[1].item<double>();
  }
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(rng);
  start_ = std::chrono::steady_clock::now();
  rewind_metrics(step_);
}

void Trainer::rewind_metrics(std::int64_t step) {
  if (rank_ != 0 || run_dir_.empty()) return;
  const std::string path = run_dir_ + "/metrics.jsonl";
  metrics_.close();
  const auto dropped = truncate_jsonl_after(path, step);
  metrics_.open(path, std::ios::app);
  log({{"step", double(step)}, {"dropped_lines", double(dropped)}}, "resume");
}

std::int64_t truncate_jsonl_after(const std::string& path, std::int64_t step) {
  std::ifstream in(path);
  if (!in) return 0;
  std::ostringstream kept;
  std::int64_t dropped = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    // A line cut short by a kill does not parse: it is dropped like the lost steps.
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || (j.contains("step") && j["step"].get<double>() > static_cast<double>(step))) {
      ++dropped;
      continue;
    }
    kept << line << "\n";
  }
  in.close();
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << kept.str();
  std::filesystem::rename(tmp, path);
  return dropped;
}

void Trainer::save_model(const std::string& path, std::map<std::string, std::string> metadata) const {
  if (rank_ == 0) {
    metadata["model"] = model_->options_json().dump();
    metadata["format"] = "pt";
    std::vector<std::pair<std::string, torch::Tensor>> extra;
    if (input_norm_) {
      for (const auto& [n, t] : surrogates::named_state(*input_norm_)) extra.emplace_back("input_normalizer." + n, t);
      for (const auto& [n, t] : surrogates::named_state(*target_norm_)) extra.emplace_back("target_normalizer." + n, t);
      metadata["input_normalizer"] = input_norm_->options_json().dump();
      metadata["target_normalizer"] = target_norm_->options_json().dump();
    }
    surrogates::save_safetensors(path, ema_ ? *ema_ : *model_, metadata, extra);
  }
  MPI_Barrier(comm_);
}

}  // namespace pdestream::training
