// The fuzzers' findings, kept (issue 16). Every file tests/data/fuzz/<target>/<name> once
// crashed, hung, leaked or was answered wrongly; <name>.expected holds a piece of the
// one-line message the readers must now give for it ("<no error>": the input is valid and
// must be accepted). The seed corpora are replayed too: any message, but never a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/targets.hpp"
#include "tests/test_util.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::vector<fs::path> inputs(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() != ".expected") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string joined(const std::vector<std::string>& messages) {
  std::string s;
  for (const auto& m : messages) s += "\n  " + m;
  return s.empty() ? " (none)" : s;
}

const fs::path kSource = pdestream::testing::source_path(".");

}  // namespace

TEST(FuzzRegressions, EveryTargetIsKnown) {
  for (const auto& dir : {kSource / "tests/data/fuzz", kSource / "fuzz/corpus"}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_directory()) continue;  // README.md
      const auto& names = pdestream::fuzz::target_names();
      EXPECT_NE(std::find(names.begin(), names.end(), e.path().filename().string()), names.end())
          << e.path() << " is not a fuzz target";
    }
  }
}

TEST(FuzzRegressions, EachGivesItsExpectedOneLineError) {
  int replayed = 0;
  for (const auto& target : pdestream::fuzz::target_names()) {
    for (const auto& path : inputs(kSource / "tests/data/fuzz" / target)) {
      SCOPED_TRACE(path.string());
      const auto expected_file = fs::path(path.string() + ".expected");
      ASSERT_TRUE(fs::exists(expected_file)) << "no " << expected_file.filename() << " beside it";
      const auto expected = first_line(expected_file);
      ASSERT_FALSE(expected.empty());
      const auto bytes = read_bytes(path);
      const auto messages = pdestream::fuzz::run_target(target, bytes.data(), bytes.size());
      if (expected == "<no error>") {
        EXPECT_TRUE(messages.empty()) << "expected no error, got:" << joined(messages);
      } else {
        EXPECT_TRUE(std::any_of(messages.begin(), messages.end(),
                                [&](const std::string& m) { return m.find(expected) != std::string::npos; }))
            << "expected a message containing \"" << expected << "\", got:" << joined(messages);
      }
      ++replayed;
    }
  }
  std::printf("replayed %d regression inputs\n", replayed);
}

TEST(FuzzRegressions, SeedsNeverCrash) {
  int replayed = 0;
  for (const auto& target : pdestream::fuzz::target_names()) {
    const auto seeds = inputs(kSource / "fuzz/corpus" / target);
    EXPECT_FALSE(seeds.empty()) << "no seeds for " << target << " (python3 fuzz/make_corpus.py)";
    for (const auto& path : seeds) {
      SCOPED_TRACE(path.string());
      const auto bytes = read_bytes(path);
      const auto messages = pdestream::fuzz::run_target(target, bytes.data(), bytes.size());
      std::printf("%s/%s:%s\n", target.c_str(), path.filename().c_str(), joined(messages).c_str());
      ++replayed;
    }
  }
  std::printf("replayed %d seeds\n", replayed);
}
