// pdestream: neural PDE surrogates fed by MPI-parallel solvers.
//
// Sample runs:
//   pdestream info
//   pdestream simulate heat2d --config configs/heat2d.toml --paraview runs/heat2d-pv
//   mpirun -np 2 pdestream simulate heat2d --config configs/heat2d.toml -ksp_type cg -pc_type gamg
//   mpirun -np 2 pdestream generate --config configs/heat2d.toml --samples 8 --out runs/heat2d.h5
//   pdestream export --hdf5 runs/heat2d.h5 --sample 0 --paraview runs/heat2d-sample0
//   pdestream poisson --sequence heat2d --steps 1000 --omega bandit:tsallis
//
// PETSc options (-ksp_type, -pc_type, -ksp_monitor, -log_view, ...) pass through untouched.
// Errors print one line and exit non-zero, including a write past a full disk or `ulimit -f`.

#include "apps/entry.hpp"

int main(int argc, char** argv) { return pdestream::apps::main(argc, argv); }
