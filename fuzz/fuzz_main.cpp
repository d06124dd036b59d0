// libFuzzer entry points of one fuzz target (PDESTREAM_FUZZ_TARGET), built by scripts/fuzz.sh:
//
//   make fuzz                                       # all targets, FUZZ_SECONDS each
//   build-fuzz/fuzz/fuzz_npy build-fuzz/corpus/npy  # one target, until stopped
//   build-fuzz/fuzz/fuzz_npy crash-1234             # replay one input
#include <cstddef>
#include <cstdint>

#include "fuzz/targets.hpp"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  pdestream::fuzz::initialize(argc, argv);
  return 0;
}

// A pdestream::Error is an answer (run_target checks it is one line); any other exception
// escapes, terminates and is reported as a crash with the input that caused it.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pdestream::fuzz::run_target(PDESTREAM_FUZZ_TARGET, data, size);
  return 0;
}
