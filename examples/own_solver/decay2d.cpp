#include "decay2d.hpp"

#include <cmath>
#include <memory>

#include "core/config.hpp"
#include "core/error.hpp"
#include "solvers/solver.hpp"

namespace own_solver {

namespace {

using namespace pdestream;

class Decay2d : public solvers::Solver {
 public:
  Decay2d(int n, int outputs, double dt, MPI_Comm comm)
      : grid_(Grid::make_2d(n, n)), outputs_(outputs), dt_(dt), comm_(comm) {
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    PDS_CHECK(n >= size, "decay2d: nx = " << n << " is smaller than the " << size << " ranks");
    box_.lo = {n * rank / size, 0, 0};  // rows [lo, hi) of x, all of y
    box_.hi = {n * (rank + 1) / size, n, 1};
  }
  std::string name() const override { return "decay2d"; }
  MPI_Comm comm() const override { return comm_; }
  const Grid& grid() const override { return grid_; }
  std::vector<std::string> channels() const override { return {"u"}; }
  Box local_box() const override { return box_; }
  std::vector<std::string> parameter_names() const override { return {"nu", "a"}; }
  Parameters default_parameters() const override { return {{"nu", 0.1}, {"a", 1.0}}; }
  void reset(const Parameters& given) override {
    // Unknown names and non-finite values are one-line errors (Solver::merged_parameters).
    const Parameters p = merged_parameters(given);
    nu_ = p.at("nu");
    a_ = p.at("a");
    k_ = 0;
  }
  void advance() override { ++k_; }
  double time() const override { return k_ * dt_; }
  int output_index() const override { return k_; }
  int num_outputs() const override { return outputs_; }
  double output_interval() const override { return dt_; }
  Field snapshot() const override {
    Field f(channels(), box_);
    const double amp = a_ * std::exp(-2 * M_PI * M_PI * nu_ * time());
    for (int i = box_.lo[0]; i < box_.hi[0]; ++i)
      for (int j = 0; j < grid_.shape[1]; ++j)
        f.at(i, j, 0, 0) = amp * std::sin(M_PI * grid_.coordinate(0, i)) * std::sin(M_PI * grid_.coordinate(1, j));
    return f;
  }

 private:
  Grid grid_;
  Box box_;
  int outputs_;
  int k_ = 0;
  double dt_;
  double nu_ = 0.1;
  double a_ = 1.0;
  MPI_Comm comm_;
};

}  // namespace

void register_decay2d() {
  solvers::register_solver("decay2d", "exact decaying heat mode (examples/own_solver)",
                           [](SectionReader& s, MPI_Comm comm) -> std::unique_ptr<solvers::Solver> {
                             // Every key read here is validated: others in [solver] are errors.
                             const int n = static_cast<int>(s.get_int("nx", 32, 4));
                             const int outputs = static_cast<int>(s.get_int("outputs", 10, 1));
                             const double dt = s.get_double("dt", 0.01, 1e-12);
                             return std::make_unique<Decay2d>(n, outputs, dt, comm);
                           });
}

}  // namespace own_solver
