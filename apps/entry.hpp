#pragma once
// The `pdestream` command line as a library function (pdestream::apps, target
// pdestream::apps). A program that links it and registers its own solvers first
// (solvers::register_solver) runs them with every subcommand: simulate, generate, train
// (online too) and evaluate. See examples/own_solver.

namespace pdestream::apps {

// Initialises MPI and PETSc (PETSc options pass through), runs the subcommand in argv and
// finalises; returns the exit code. Errors are one line on stderr and a non-zero code.
int main(int argc, char** argv);

}  // namespace pdestream::apps
