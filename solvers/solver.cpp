#include "solvers/solver.hpp"

#include <cmath>
#include <map>
#include <mutex>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "solvers/acoustic.hpp"
#include "solvers/burgers1d.hpp"
#include "solvers/fv1d.hpp"
#include "solvers/heat2d.hpp"
#include "solvers/ks1d.hpp"
#include "solvers/ns2d.hpp"

namespace pdestream::solvers {

Parameters Solver::merged_parameters(const Parameters& given) const {
  Parameters next = default_parameters();
  for (const auto& [key, value] : given) {
    PDS_CHECK(next.count(key), name() << " has no parameter '" << key << "'; expected " << join(parameter_names()));
    PDS_CHECK(std::isfinite(value), name() << " parameter " << key << " must be finite, got " << value);
    next[key] = value;
  }
  return next;
}

std::vector<double> Solver::output_times() const {
  std::vector<double> t(num_outputs() + 1);
  for (int k = 0; k <= num_outputs(); ++k) t[k] = k * output_interval();
  return t;
}

namespace {

struct Entry {
  std::string description;
  SolverFactory factory;
};

// Built-ins are registered explicitly here, not by static initialisers, which a static
// library link would silently drop.
std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r = {
      {"acoustic2d",
       {"2D linear acoustics in a room (box, L-shape or .npy mask) with impedance walls, staggered FDTD on DMDA, "
        "Gaussian pulse at a sampled source position, receivers",
        [](SectionReader& s, MPI_Comm comm) -> std::unique_ptr<Solver> {
          return std::make_unique<Acoustic>(AcousticOptions::from_section(2, s), comm);
        }}},
      {"acoustic3d",
       {"3D linear acoustics in a room (box, L-shape or .npy mask) with impedance walls, staggered FDTD on DMDA, "
        "Gaussian pulse at a sampled source position, receivers",
        [](SectionReader& s, MPI_Comm comm) -> std::unique_ptr<Solver> {
          return std::make_unique<Acoustic>(AcousticOptions::from_section(3, s), comm);
        }}},
      {"advection1d",
       {"1D advection u_t + beta u_x = 0, periodic, MUSCL finite volumes + SSP-RK2, PDEBench random data",
        [](SectionReader& s, MPI_Comm comm) -> std::unique_ptr<Solver> {
          return std::make_unique<Advection1d>(Fv1dOptions::from_section("advection1d", s), comm);
        }}},
      {"burgers1d_fv",
       {"1D Burgers u_t + (u^2/2)_x = (nu/pi) u_xx (PDEBench's form), periodic, MUSCL/Rusanov finite volumes, "
        "exact diffusion, Strang splitting, PDEBench random data",
        [](SectionReader& s, MPI_Comm comm) -> std::unique_ptr<Solver> {
          return std::make_unique<BurgersFv1d>(Fv1dOptions::from_section("burgers1d_fv", s), comm);
        }}},
      {"diffreact1d",
       {"1D diffusion-reaction u_t = nu u_xx + rho u (1 - u), periodic, exact diffusion and logistic steps, "
        "Strang splitting, PDEBench random data in [0, 1]",
        [](SectionReader& s, MPI_Comm comm) -> std::unique_ptr<Solver> {
          return std::make_unique<DiffReact1d>(Fv1dOptions::from_section("diffreact1d", s), comm);
        }}},
      {"burgers1d",
       {"1D viscous Burgers u_t + (u^2/2)_x = nu u_xx, periodic, pseudo-spectral ETDRK4, FNO random data",
        [](SectionReader& s, MPI_Comm comm) -> std::unique_ptr<Solver> {
          return std::make_unique<Burgers1d>(Burgers1dOptions::from_section(s), comm);
        }}},
      {"ks1d",
       {"1D Kuramoto-Sivashinsky u_t + u u_x + u_xx + nu u_xxxx = 0 on [0, L), periodic, pseudo-spectral ETDRK4, "
        "PDE-Refiner's random data after a burn-in",
        [](SectionReader& s, MPI_Comm comm) -> std::unique_ptr<Solver> {
          return std::make_unique<Ks1d>(Ks1dOptions::from_section(s), comm);
        }}},
      {"heat2d",
       {"2D heat equation u_t = alpha (u_xx + u_yy), Dirichlet sides, BE/CN on DMDA",
        [](SectionReader& s, MPI_Comm comm) -> std::unique_ptr<Solver> {
          return std::make_unique<Heat2d>(Heat2dOptions::from_section(s), comm);
        }}},
      {"ns2d",
       {"2D incompressible Navier-Stokes (vorticity) on the unit torus, pseudo-spectral CN/Heun, FFTW-MPI slabs, "
        "FNO forcing and random data",
        [](SectionReader& s, MPI_Comm comm) -> std::unique_ptr<Solver> {
          return std::make_unique<Ns2d>(Ns2dOptions::from_section(s), comm);
        }}},
  };
  return r;
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

void register_solver(const std::string& name, const std::string& description, SolverFactory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  PDS_CHECK(!name.empty() && factory, "register_solver needs a name and a factory");
  PDS_CHECK(!registry().count(name), "a solver named '" << name << "' is already registered");
  registry()[name] = Entry{description, std::move(factory)};
}

std::vector<SolverInfo> registered_solvers() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<SolverInfo> out;
  for (const auto& [name, e] : registry()) out.push_back({name, e.description});
  return out;
}

std::unique_ptr<Solver> make_solver(const std::string& name, const Config& config, MPI_Comm comm) {
  SectionReader section(config, "solver");
  std::string chosen = name;
  if (chosen.empty()) {
    chosen = section.get_string("name");
  } else if (section.has("name")) {
    const std::string in_file = section.get_string("name");
    PDS_CHECK(in_file == chosen, section.where("name") << ": config is for solver '" << in_file
                                                       << "' but '" << chosen << "' was requested");
  }
  section.accept("name");
  SolverFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto it = registry().find(chosen);
    if (it == registry().end()) {
      std::string names;
      for (const auto& [n, e] : registry()) names += (names.empty() ? "" : ", ") + n;
      PDS_FAIL("unknown solver '" << chosen << "'; expected one of: " << names);
    }
    factory = it->second.factory;
  }
  auto solver = factory(section, comm);
  section.finish();
  return solver;
}

}  // namespace pdestream::solvers
