#pragma once
// The online job's messages, on one communicator (a duplicate of the job's world) that no
// other code uses, so probes by tag never see foreign traffic.
//
//   sim group leader ──REQUEST──────────────> coordinator (trainer rank 0)
//   coordinator      ──WORK (or STOP)───────> sim group leader  (then MPI_Bcast in the group)
//   coordinator      ──ASSIGN───────────────> trainer rank r     (r starts the sim's timeout clock)
//   every sim rank   ──DATA (header+block)──> trainer rank r     (non-blocking, credit-limited)
//   trainer rank r   ──CREDIT───────────────> sim rank           (one per block taken in)
//   every sim rank   ──END (sent, status)───> trainer rank r     (after the sim's last block)
//   trainer rank r   ──RESULT (ok/failed)───> coordinator        (r is the judge of a sim)
//   every sim rank   ──BYE (totals)─────────> every trainer rank (the rank leaves the job)
//
// Messages of different tags may overtake each other, so END and BYE carry counts and the
// receiver waits until it has seen that many DATA messages.

#include <cstdint>
#include <string>
#include <vector>

#include "core/grid.hpp"

namespace pdestream::online_training::protocol {

enum Tag : int { REQUEST = 101, WORK, ASSIGN, DATA, CREDIT, END, RESULT, BYE };

// One unit of work: simulation `sim_id` (unique per attempt) computes sample `sample`
// (the sampler's index; validation samples are negative: -1, -2, ...).
struct WorkItem {
  std::int64_t sim_id = -1;  // -1: STOP
  std::int64_t sample = 0;
  std::int64_t attempt = 0;
  int trainer = 0;  // trainer rank (in the trainer communicator) that receives the data
  std::vector<double> params;  // in the solver's parameter_names() order

  bool stop() const { return sim_id < 0; }
  bool validation() const { return sample < 0; }
  std::vector<double> encode() const;
  static WorkItem decode(const std::vector<double>& buffer);
};

// Precedes each block of field data.
struct DataHeader {
  std::int64_t sim_id = 0;
  std::int64_t sample = 0;
  std::int64_t step = 0;       // output index (0: the initial state)
  std::int64_t group_size = 1; // blocks that make one step
  double time = 0;
  std::int64_t lo[3] = {0, 0, 0};
  std::int64_t hi[3] = {1, 1, 1};
  std::int64_t channels = 1;
  std::int64_t count = 0;      // doubles in the payload
  std::uint64_t checksum = 0;  // FNV-1a of the payload bytes
  std::int64_t num_params = 0; // parameters follow the header, before the payload
};

// DATA message: header | params (num_params doubles) | payload (count doubles).
std::vector<char> pack_data(const DataHeader& header, const std::vector<double>& params, const Field& block);
struct DataMessage {
  DataHeader header;
  std::vector<double> params;
  const double* payload = nullptr;  // points into the message buffer
  Box box() const;
};
// Throws pdestream::Error if the message is truncated, inconsistent or fails its checksum.
DataMessage unpack_data(const std::vector<char>& buffer);

std::uint64_t fnv1a(const void* data, std::size_t bytes);

// END: a sim rank's last word on a simulation.
struct EndReport {
  std::int64_t sim_id = 0;
  std::int64_t blocks = 0;       // DATA messages this rank sent for the sim
  std::int64_t group_size = 1;   // ranks of the simulation (ENDs to expect)
  std::int64_t failed = 0;       // 1 if the simulation failed on the sim side
  double credit_wait = 0;        // seconds this rank waited for credits during the sim
  double solve_seconds = 0;      // seconds in the solver
  std::string reason;            // why it failed

  std::vector<char> encode() const;
  static EndReport decode(const std::vector<char>& buffer);
};

// RESULT: trainer rank's verdict on a simulation.
struct Result {
  std::int64_t sim_id = 0;
  std::int64_t sample = 0;
  std::int64_t failed = 0;
  std::int64_t examples = 0;
  std::string reason;

  std::vector<char> encode() const;
  static Result decode(const std::vector<char>& buffer);
};

// BYE: totals a sim rank sent to this trainer rank over the whole job.
struct Bye {
  std::int64_t data = 0;
  std::int64_t ends = 0;
};

}  // namespace pdestream::online_training::protocol
