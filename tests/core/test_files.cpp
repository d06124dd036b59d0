// core/files: whole-file writes on a full disk (RLIMIT_FSIZE stands in for one, with
// SIGXFSZ ignored so write() fails instead of killing the test).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "core/files.hpp"
#include "tests/test_util.hpp"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using pdestream::testing::error_of;
using pdestream::testing::read_text;

// Runs `f` with files limited to `bytes`.
template <class F>
std::string with_file_limit(rlim_t bytes, F&& f) {
  rlimit old_limit{};
  getrlimit(RLIMIT_FSIZE, &old_limit);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old_limit;
  small.rlim_cur = bytes;
  setrlimit(RLIMIT_FSIZE, &small);
  const auto message = error_of(f);
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  return message;
}

TEST(Files, WritesAndReplacesWholeFiles) {
  const auto dir = pdestream::testing::scratch_dir("files_ok", MPI_COMM_SELF);
  pdestream::write_file(dir + "/a.bin", std::string("x\0y", 3));
  EXPECT_EQ(fs::file_size(dir + "/a.bin"), 3u);
  pdestream::write_file_atomically(dir + "/b.txt", "old");
  pdestream::write_file_atomically(dir + "/b.txt", "new text");
  EXPECT_EQ(read_text(dir + "/b.txt"), "new text");
  EXPECT_FALSE(fs::exists(dir + "/b.txt.tmp"));
}

TEST(Files, AFullDiskIsOneLineAndLeavesNoPartialFile) {
  const auto dir = pdestream::testing::scratch_dir("files_full", MPI_COMM_SELF);
  const std::string big(20000, 'z');
  auto message = with_file_limit(8192, [&] { pdestream::write_file(dir + "/big.bin", big); });
  EXPECT_THAT(message, HasSubstr("wrote 8192 of 20000 bytes of " + dir + "/big.bin (disk full?)"));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir + "/big.bin"));

  // The atomic write keeps the old file whole.
  pdestream::write_file_atomically(dir + "/keep.txt", "previous");
  message = with_file_limit(8192, [&] { pdestream::write_file_atomically(dir + "/keep.txt", big); });
  EXPECT_THAT(message, HasSubstr("of 20000 bytes of " + dir + "/keep.txt.tmp (disk full?)"));
  EXPECT_EQ(read_text(dir + "/keep.txt"), "previous");
  EXPECT_FALSE(fs::exists(dir + "/keep.txt.tmp"));
}

TEST(Files, UnwritablePathsAreOneLine) {
  const auto dir = pdestream::testing::scratch_dir("files_bad", MPI_COMM_SELF);
  EXPECT_THAT(error_of([&] { pdestream::write_file(dir + "/no/such/dir/f", "x"); }),
              HasSubstr("cannot open '" + dir + "/no/such/dir/f' for writing"));
  fs::create_directories(dir + "/a_dir");
  EXPECT_THAT(error_of([&] { pdestream::write_file_atomically(dir + "/a_dir", "x"); }),
              HasSubstr("cannot rename '" + dir + "/a_dir.tmp' to '" + dir + "/a_dir'"));
  EXPECT_FALSE(fs::exists(dir + "/a_dir.tmp"));
}

}  // namespace
