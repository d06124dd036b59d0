// own_solver: the pdestream command line with one more solver, decay2d (decay2d.cpp).
//
// Sample runs (from the pdestream checkout, after building this example into build-own):
//   build-own/own_solver simulate decay2d --config examples/own_solver/decay2d.toml
//   mpirun -np 2 build-own/own_solver generate --config examples/own_solver/decay2d.toml \
//          --samples 8 --out runs/decay2d.h5
//   mpirun -np 3 build-own/own_solver train --config examples/own_solver/decay2d_online.toml
//   build-own/own_solver evaluate --run runs/decay2d_online --data runs/decay2d.h5
//
// Every subcommand, option and error of `pdestream` works here unchanged (--help lists them).

#include "apps/entry.hpp"
#include "decay2d.hpp"

int main(int argc, char** argv) {
  own_solver::register_decay2d();
  return pdestream::apps::main(argc, argv);
}
