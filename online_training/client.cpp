#include "online_training/client.hpp"

#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <random>
#include <thread>

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "online_training/protocol.hpp"
#include "solvers/solver.hpp"

namespace pdestream::online_training {

namespace {

using Clock = std::chrono::steady_clock;
namespace pr = protocol;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Non-blocking sends whose buffers live until MPI is done with them, and the credit count
// that bounds how many of them the trainers have not taken in yet.
class Outbox {
 public:
  Outbox(MPI_Comm comm, int credits) : comm_(comm), credits_(credits) {}

  void send(std::vector<char> bytes, int dest, ClientStats& stats) {
    wait_for_credit(stats);
    pending_.push_back({MPI_REQUEST_NULL, std::move(bytes)});
    auto& p = pending_.back();
    MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, dest, pr::DATA, comm_, &p.request);
    ++in_flight_;
    ++stats.blocks;
    stats.bytes += static_cast<double>(p.bytes.size());
    reap();
  }

  // Until every block sent has been taken in by its trainer (all credits are back).
  void drain(ClientStats& stats) {
    while (in_flight_ > 0) {
      if (!take_credits()) nap();
    }
    for (auto& p : pending_) MPI_Wait(&p.request, MPI_STATUS_IGNORE);
    pending_.clear();
    (void)stats;
  }

 private:
  struct Pending {
    MPI_Request request;
    std::vector<char> bytes;
  };

  void wait_for_credit(ClientStats& stats) {
    take_credits();
    if (in_flight_ < credits_) return;
    const auto start = Clock::now();
    backoff_ = 50;
    while (in_flight_ >= credits_) {
      if (!take_credits()) nap();
    }
    stats.credit_wait += seconds_since(start);
  }

  bool take_credits() {
    bool got = false;
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, pr::CREDIT, comm_, &flag, &st);
      if (!flag) break;
      std::int64_t n = 0;
      MPI_Recv(&n, 1, MPI_INT64_T, st.MPI_SOURCE, pr::CREDIT, comm_, MPI_STATUS_IGNORE);
      in_flight_ -= n;
      got = true;
    }
    if (got) backoff_ = 50;
    return got;
  }

  // Sleep with growing back-off: a busy-polling rank would take a core from the trainer.
  void nap() {
    std::this_thread::sleep_for(std::chrono::microseconds(backoff_));
    backoff_ = std::min(backoff_ * 2, 2000);
  }

  void reap() {
    while (!pending_.empty()) {
      int done = 0;
      MPI_Test(&pending_.front().request, &done, MPI_STATUS_IGNORE);
      if (!done) break;
      pending_.pop_front();
    }
  }

  MPI_Comm comm_;
  int credits_;
  std::int64_t in_flight_ = 0;
  int backoff_ = 50;
  std::deque<Pending> pending_;
};

pr::WorkItem request_work(MPI_Comm group, MPI_Comm online, int group_rank) {
  std::vector<double> buffer;
  int n = 0;
  if (group_rank == 0) {
    const std::int64_t hello = 0;
    MPI_Send(&hello, 1, MPI_INT64_T, 0, pr::REQUEST, online);
    // The coordinator may hold the answer back (a retry may still come), so poll gently.
    int flag = 0, backoff = 100;
    MPI_Status st;
    for (;;) {
      MPI_Iprobe(0, pr::WORK, online, &flag, &st);
      if (flag) break;
      std::this_thread::sleep_for(std::chrono::microseconds(backoff));
      backoff = std::min(backoff * 2, 5000);
    }
    MPI_Get_count(&st, MPI_DOUBLE, &n);
    buffer.resize(static_cast<std::size_t>(n));
    MPI_Recv(buffer.data(), n, MPI_DOUBLE, 0, pr::WORK, online, MPI_STATUS_IGNORE);
  }
  MPI_Bcast(&n, 1, MPI_INT, 0, group);
  buffer.resize(static_cast<std::size_t>(n));
  MPI_Bcast(buffer.data(), n, MPI_DOUBLE, 0, group);
  return pr::WorkItem::decode(buffer);
}

// A transport error as the checksum should see it: a few bits of the field flipped after
// the sender computed the checksum. Deterministic in the sample, so a fault run repeats.
void flip_payload_bits(std::vector<char>& bytes, std::size_t num_params, std::int64_t sample) {
  const std::size_t begin = sizeof(pr::DataHeader) + num_params * sizeof(double);
  if (bytes.size() <= begin) return;
  std::mt19937_64 rng(static_cast<std::uint64_t>(sample) * 0x9E3779B97F4A7C15ull + 1);
  std::uniform_int_distribution<std::size_t> byte(begin, bytes.size() - 1);
  for (int k = 0; k < 3; ++k) bytes[byte(rng)] ^= static_cast<char>(1u << (rng() % 8));
}

}  // namespace

ClientStats run_client(solvers::Solver& solver, MPI_Comm group, MPI_Comm online, const Roles& roles,
                       const OnlineOptions& options) {
  ClientStats stats;
  const int group_rank = comm_rank(group), group_size = comm_size(group);
  const auto names = solver.parameter_names();
  Outbox outbox(online, options.credits);
  std::vector<pr::Bye> bye(static_cast<std::size_t>(roles.trainers));
  for (;;) {
    const pr::WorkItem work = request_work(group, online, group_rank);
    if (work.stop()) break;
    ++stats.simulations;
    PDS_CHECK(work.params.size() == names.size(), "WORK for sim " << work.sim_id << " has " << work.params.size()
                                                                  << " parameters, solver " << solver.name()
                                                                  << " takes " << names.size());
    Parameters params;
    for (std::size_t i = 0; i < names.size(); ++i) params[names[i]] = work.params[i];
    const bool faulty = options.faulty(work.sample, work.attempt);
    pr::EndReport end;
    end.sim_id = work.sim_id;
    end.group_size = group_size;
    const double wait_before = stats.credit_wait;
    for (int step = 0; step <= solver.num_outputs(); ++step) {
      Field block;
      try {
        collective_try(group, [&] {
          const auto t0 = Clock::now();
          if (step == 0)
            solver.reset(params);
          else
            solver.advance();
          block = solver.snapshot();
          stats.solve_seconds += seconds_since(t0);
          end.solve_seconds += seconds_since(t0);
          if (faulty && step == options.fault_step) {
            if (options.fault == "throw") PDS_FAIL("injected fault: the solver throws at output " << step);
            if (options.fault == "nan") block.data()[0] = std::numeric_limits<double>::quiet_NaN();
            if (options.fault == "hang")
              std::this_thread::sleep_for(std::chrono::duration<double>(options.fault_hang));
            if (options.fault == "kill_sim" && group_rank == group_size - 1)
              kill_self("simulation rank " + std::to_string(roles.world_rank) + " dies in sample " +
                        std::to_string(work.sample) + " at output " + std::to_string(step));
          }
        });
      } catch (const CollectiveError& e) {
        end.failed = 1;
        end.reason = e.message();
        break;
      }
      pr::DataHeader h;
      h.sim_id = work.sim_id;
      h.sample = work.sample;
      h.step = step;
      h.group_size = group_size;
      h.time = solver.time();
      auto bytes = pr::pack_data(h, work.params, block);
      if (faulty && step == options.fault_step && options.fault == "corrupt_data")
        flip_payload_bits(bytes, work.params.size(), work.sample);
      outbox.send(std::move(bytes), work.trainer, stats);
      ++end.blocks;
    }
    if (end.failed) ++stats.failed;
    end.credit_wait = stats.credit_wait - wait_before;
    const auto bytes = end.encode();
    MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, work.trainer, pr::END, online);
    bye[static_cast<std::size_t>(work.trainer)].data += end.blocks;
    bye[static_cast<std::size_t>(work.trainer)].ends += 1;
  }
  outbox.drain(stats);
  for (int t = 0; t < roles.trainers; ++t) {
    const std::int64_t totals[2] = {bye[static_cast<std::size_t>(t)].data, bye[static_cast<std::size_t>(t)].ends};
    MPI_Send(totals, 2, MPI_INT64_T, t, pr::BYE, online);
  }
  return stats;
}

}  // namespace pdestream::online_training
