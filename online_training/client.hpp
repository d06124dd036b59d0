#pragma once
// The simulation side of an online job: every rank of a simulation group runs
// run_client() with the group's solver. The group leader asks the coordinator for work and
// broadcasts it; every rank streams its own block of every output step straight to the
// trainer rank that the coordinator assigned, and reports the end of each simulation.
//
// A user's solver joins by implementing solvers::Solver and registering it (see
// solvers/solver.hpp); the client only calls reset/advance/snapshot.

#include <mpi.h>

#include <cstdint>

#include "online_training/online_options.hpp"

namespace pdestream::solvers {
class Solver;
}

namespace pdestream::online_training {

struct ClientStats {
  std::int64_t simulations = 0;  // simulations this rank took part in
  std::int64_t failed = 0;
  std::int64_t blocks = 0;       // DATA messages sent
  double bytes = 0;
  double credit_wait = 0;        // seconds waiting for credits
  double solve_seconds = 0;      // seconds in reset/advance/snapshot
};

// Runs until the coordinator says STOP. `online` is the job's message communicator (the
// trainer ranks are its ranks 0..roles.trainers-1), `group` the simulation group's.
ClientStats run_client(solvers::Solver& solver, MPI_Comm group, MPI_Comm online, const Roles& roles,
                       const OnlineOptions& options);

}  // namespace pdestream::online_training
