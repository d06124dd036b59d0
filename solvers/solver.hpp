#pragma once
// The Solver interface every PDE implements, and the registry that builds them by name.
//
// A solver owns its rank-local state on the communicator it was built on. The life cycle:
//   auto s = make_solver("heat2d", config, comm);   // create + set from options + set up
//   s->reset(params);                               // a new trajectory, time 0
//   while (s->output_index() < s->num_outputs()) {  // snapshot() at every output time
//     s->advance();                                 // one output interval
//     Field block = s->snapshot();                  // this rank's block
//   }

#include <mpi.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/grid.hpp"
#include "core/parameter_space.hpp"

namespace pdestream::solvers {

class Solver {
 public:
  virtual ~Solver() = default;

  virtual std::string name() const = 0;
  virtual MPI_Comm comm() const = 0;
  virtual const Grid& grid() const = 0;
  virtual std::vector<std::string> channels() const = 0;
  // This rank's block of the grid (snapshot() covers exactly this box).
  virtual Box local_box() const = 0;

  // The parameters reset() understands, and their values when not given.
  virtual std::vector<std::string> parameter_names() const = 0;
  virtual Parameters default_parameters() const = 0;

  // Start a new trajectory at time 0 with `params` (names not given keep their defaults;
  // an unknown name is an error).
  virtual void reset(const Parameters& params) = 0;
  // Advance by one output interval. Throws pdestream::Error if the solve fails or the
  // state stops being finite.
  virtual void advance() = 0;
  virtual double time() const = 0;
  // Outputs taken so far since reset (0 right after reset: the initial state).
  virtual int output_index() const = 0;
  // Number of advance() calls in a full trajectory.
  virtual int num_outputs() const = 0;
  // Physical time between outputs.
  virtual double output_interval() const = 0;
  // This rank's block of the current state.
  virtual Field snapshot() const = 0;

  // Point receivers sampled at every time step, for solvers that have them: their names, and
  // one row (time, value per receiver) per step since reset(), identical on every rank.
  virtual std::vector<std::string> receiver_names() const { return {}; }
  virtual std::vector<std::vector<double>> receiver_rows() const { return {}; }

  // Times of the num_outputs() + 1 snapshots of a full trajectory (initial state included).
  std::vector<double> output_times() const;

 protected:
  // `given` over default_parameters(), for reset(): a name not in parameter_names() or a
  // non-finite value is a one-line error naming the solver and the parameters it has.
  Parameters merged_parameters(const Parameters& given) const;
};

// Builds a solver from the [solver] section of a config (all of its keys are validated).
using SolverFactory = std::function<std::unique_ptr<Solver>(SectionReader& section, MPI_Comm comm)>;

struct SolverInfo {
  std::string name;
  std::string description;
};

// Register a solver (a user's own solver joins this way); re-registering a name is an error.
void register_solver(const std::string& name, const std::string& description, SolverFactory factory);
std::vector<SolverInfo> registered_solvers();

// `name` empty: take it from [solver] name.
std::unique_ptr<Solver> make_solver(const std::string& name, const Config& config, MPI_Comm comm);

}  // namespace pdestream::solvers
