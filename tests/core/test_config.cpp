#include <gtest/gtest.h>

#include <filesystem>

#include "core/config.hpp"
#include "core/error.hpp"
#include "tests/test_util.hpp"

using pdestream::testing::error_of;

using pdestream::Config;
using pdestream::Error;
using pdestream::SectionReader;

namespace {

const char* kConfig = R"(
[solver]
name = "heat2d"
nx = 32
dt = 1e-3
scheme = "cn"
ratio = 2

[parameters]
alpha = [0.1, 2.0]
t_left = [-1, 1]
)";

}  // namespace

TEST(Config, ReadsTypedValuesAndDefaults) {
  Config c = Config::parse(kConfig, "job.toml");
  SectionReader s(c, "solver");
  EXPECT_EQ(s.get_string("name"), "heat2d");
  EXPECT_EQ(s.get_int("nx", 64, 3), 32);
  EXPECT_EQ(s.get_int("ny", 64, 3), 64);  // fallback
  EXPECT_DOUBLE_EQ(s.get_double("dt"), 1e-3);
  EXPECT_DOUBLE_EQ(s.get_double("ratio"), 2.0);  // integers are accepted as numbers
  EXPECT_EQ(s.get_string("scheme", "be", {"be", "cn"}), "cn");
  EXPECT_NO_THROW(s.finish());
  SectionReader p(c, "parameters");
  EXPECT_EQ(p.keys(), (std::vector<std::string>{"alpha", "t_left"}));
  EXPECT_EQ(p.get_range("t_left"), std::make_pair(-1.0, 1.0));
}

TEST(Config, UnknownKeyNamesFileKeyAndExpectedKeys) {
  Config c = Config::parse(kConfig, "job.toml");
  SectionReader s(c, "solver");
  s.get_int("nx", 64);
  s.accept("name");
  const std::string msg = error_of([&] { s.finish(); });
  EXPECT_NE(msg.find("job.toml: [solver] dt: unknown key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("also: ratio, scheme"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected one of: name, nx"), std::string::npos) << msg;
}

TEST(Config, MissingRequiredKey) {
  Config c = Config::parse(kConfig, "job.toml");
  SectionReader s(c, "solver");
  const std::string msg = error_of([&] { s.get_double("alpha"); });
  EXPECT_EQ(msg, "job.toml: [solver] alpha: missing required key (expected a number)");
}

TEST(Config, WrongTypeAndRange) {
  Config c = Config::parse(kConfig, "job.toml");
  SectionReader s(c, "solver");
  EXPECT_EQ(error_of([&] { s.get_int("nx", 64, 64); }), "job.toml: [solver] nx: expected an integer >= 64, got 32");
  EXPECT_EQ(error_of([&] { s.get_int("dt"); }), "job.toml: [solver] dt: expected an integer, got 0.001 (floating)");
  EXPECT_EQ(error_of([&] { s.get_string("scheme", {}, {"be"}); }),
            "job.toml: [solver] scheme: expected one of: be, got \"cn\"");
  EXPECT_EQ(error_of([&] { s.get_bool("nx"); }), "job.toml: [solver] nx: expected true or false, got 32 (integer)");
  EXPECT_EQ(error_of([&] { s.get_double("dt", {}, 0.5, 1.0); }),
            "job.toml: [solver] dt: expected a number in [0.5, 1], got 0.001");
  SectionReader p(c, "parameters");
  Config bad = Config::parse("[parameters]\nalpha = [2.0, 1.0]\nbeta = [1]\n", "p.toml");
  SectionReader q(bad, "parameters");
  EXPECT_NE(error_of([&] { q.get_range("alpha"); }).find("low <= high, got [2, 1]"), std::string::npos);
  EXPECT_NE(error_of([&] { q.get_range("beta"); }).find("expected [low, high], got a list of 1"), std::string::npos);
}

TEST(Config, UnknownSectionAndSyntaxErrors) {
  EXPECT_EQ(error_of([] { Config::parse("[solvr]\nnx = 3\n", "a.toml"); }),
            "a.toml: unknown section [solvr]; expected one of: solver, parameters, sampler, simulation, data, "
            "model, task, training, online, output");
  const std::string syntax = error_of([] { Config::parse("[solver\nnx = 3\n", "b.toml"); });
  EXPECT_EQ(syntax.rfind("b.toml: invalid TOML", 0), 0u) << syntax;
  EXPECT_EQ(syntax.find('\n'), std::string::npos) << "one line: " << syntax;
  const std::string missing = error_of([] { Config::load("/nonexistent/job.toml"); });
  EXPECT_EQ(missing, "config file '/nonexistent/job.toml' does not exist");
}

TEST(Config, OverridesParseTomlValuesAndBareWords) {
  Config c = Config::parse(kConfig, "job.toml");
  c.apply_overrides({"solver.nx=128", "solver.scheme=be", "solver.dt=2e-4", "parameters.alpha=[0.5, 1.5]",
                     "output.dir=runs/x", "output.paraview=true"});
  SectionReader s(c, "solver");
  EXPECT_EQ(s.get_int("nx"), 128);
  EXPECT_EQ(s.get_string("scheme"), "be");
  EXPECT_DOUBLE_EQ(s.get_double("dt"), 2e-4);
  SectionReader o(c, "output");
  EXPECT_EQ(o.get_string("dir"), "runs/x");
  EXPECT_TRUE(o.get_bool("paraview"));
  EXPECT_EQ(SectionReader(c, "parameters").get_doubles("alpha"), (std::vector<double>{0.5, 1.5}));
  // An override is named as such in errors.
  c.apply_override("solver.nx=-3");
  SectionReader s2(c, "solver");
  EXPECT_EQ(error_of([&] { s2.get_int("nx", {}, 3); }), "--set: [solver] nx: expected an integer >= 3, got -3");
  EXPECT_NE(error_of([&] { c.apply_override("nx=3"); }).find("expected section.key=value"), std::string::npos);
  EXPECT_NE(error_of([&] { c.apply_override("solver.nx"); }).find("expected section.key=value"), std::string::npos);
  EXPECT_NE(error_of([&] { c.apply_override("bogus.nx=3"); }).find("unknown section [bogus]"), std::string::npos);
  EXPECT_NE(error_of([&] { c.apply_override("solver.v=[1,"); }).find("cannot parse value"), std::string::npos);
}

TEST(Config, MergedConfigRoundTrips) {
  Config c = Config::parse(kConfig, "job.toml");
  c.apply_override("solver.nx=16");
  c.set_default("output.every", "3");
  c.set_default("solver.nx", "99");  // present: untouched
  const auto dir = pdestream::testing::scratch_dir("merged", MPI_COMM_SELF);
  c.write(dir + "/config.toml");
  Config back = Config::load(dir + "/config.toml");
  SectionReader s(back, "solver");
  EXPECT_EQ(s.get_int("nx"), 16);
  EXPECT_EQ(s.get_string("scheme"), "cn");
  EXPECT_EQ(SectionReader(back, "output").get_int("every"), 3);
  EXPECT_EQ(SectionReader(back, "parameters").get_range("alpha"), std::make_pair(0.1, 2.0));
  EXPECT_EQ(back.to_toml(), c.to_toml());
}
