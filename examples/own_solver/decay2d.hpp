#pragma once
// decay2d: the exact decaying heat mode u = a sin(pi x) sin(pi y) exp(-2 pi^2 nu t) on the
// unit square, in slabs along x over the simulation group's ranks. A real solver time-steps
// in advance(); this one evaluates the exact solution, which makes its output checkable.

namespace own_solver {

// Adds "decay2d" to pdestream's solver registry; call once, before pdestream::apps::main.
void register_decay2d();

}  // namespace own_solver
