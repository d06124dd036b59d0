#pragma once
// Fuzz targets (issue 16): one per reader of outside data, each feeding its input through
// the same library function that the commands call.
//
// A pdestream::Error is a reader's answer to bad input: it propagates to the caller, which
// checks that it is one line. Anything else is a bug the fuzzer reports: another exception
// type (std::out_of_range, nlohmann::json or c10 errors escaping a reader), a sanitizer
// report, a hang, or a broken promise of the reader (abort through fuzz::violated).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pdestream::fuzz {

// config, safetensors, matrix_market, petsc_binary, npy, protocol, resume_state,
// resume_buffer, hdf5_dataset
const std::vector<std::string>& target_names();

// MPI and PETSc, once per process (the fuzzers' LLVMFuzzerInitialize; the test suite's
// main already has them).
void initialize(int* argc, char*** argv);

// Feeds `data` to target `name`'s readers; returns the one-line messages of the Errors they
// gave, in order (none for valid input). Anything else propagates.
std::vector<std::string> run_target(const std::string& name, const std::uint8_t* data, std::size_t size);

}  // namespace pdestream::fuzz
