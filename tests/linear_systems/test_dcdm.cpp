// DCDM on 1 and 2 ranks: the network's shape, parameter names and files; DCDM as a KSP
// type with an exact inverse (one iteration), with a fixed SPD preconditioner (FCG's
// iteration counts), with an untrained network (2D and 3D, end to end); as a PC inside FCG
// and FGMRES; the network operator's gather/scatter; and the error messages.
#include <gtest/gtest.h>
#include <petscdmda.h>
#include <petscksp.h>

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"
#include "linear_systems/poisson.hpp"
#include "io/safetensors.hpp"
#include "linear_systems/dcdm.hpp"
#include "linear_systems/dcdm_net.hpp"
#include "linear_systems/petsc_handle.hpp"
#include "linear_systems/torch_bridge.hpp"
#include "tests/test_util.hpp"

using namespace pdestream;
using namespace pdestream::linear_systems;
using pdestream::testing::error_of;

namespace {

int rank_of_world() {
  int r = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &r);
  return r;
}

// -Laplace(u) = b on the interior points of an n^dim grid, homogeneous Dirichlet boundary
// eliminated (2 dim on the diagonal, -1 to each neighbour), b a fixed pseudo-random field
// of the global indices (the same on any rank count).
struct Poisson {
  OwnedDM da;
  OwnedMat A;
  OwnedVec b, x;
  int dim;

  Poisson(int dim_, PetscInt nx, PetscInt ny, PetscInt nz = 1) : dim(dim_) {
    MPI_Comm comm = PETSC_COMM_WORLD;
    if (dim == 2)
      PDS_PETSC(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, nx, ny, PETSC_DECIDE,
                             PETSC_DECIDE, 1, 1, nullptr, nullptr, da.address()));
    else
      PDS_PETSC(DMDACreate3d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, nx, ny,
                             nz, PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, nullptr,
                             da.address()));
    PDS_PETSC(DMSetUp(da));
    PDS_PETSC(DMCreateMatrix(da, A.address()));
    DMDALocalInfo info;
    PDS_PETSC(DMDAGetLocalInfo(da, &info));
    PDS_PETSC(DMCreateGlobalVector(da, b.address()));
    PDS_PETSC(VecDuplicate(b, x.address()));
    PetscScalar* rhs = nullptr;
    PDS_PETSC(VecGetArray(b, &rhs));
    for (PetscInt k = info.zs; k < info.zs + info.zm; ++k)
      for (PetscInt j = info.ys; j < info.ys + info.ym; ++j)
        for (PetscInt i = info.xs; i < info.xs + info.xm; ++i) {
          MatStencil row = {0};
          row.i = i, row.j = j, row.k = k;
          PetscScalar diag = 2.0 * dim, off = -1.0;
          PDS_PETSC(MatSetValuesStencil(A, 1, &row, 1, &row, &diag, INSERT_VALUES));
          const PetscInt d[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
          for (int s = 0; s < 2 * dim; ++s) {
            MatStencil col = row;
            col.i += d[s][0], col.j += d[s][1], col.k += d[s][2];
            if (col.i < 0 || col.j < 0 || col.k < 0 || col.i >= info.mx || col.j >= info.my ||
                (dim == 3 && col.k >= info.mz))
              continue;
            PDS_PETSC(MatSetValuesStencil(A, 1, &row, 1, &col, &off, INSERT_VALUES));
          }
          // The owned block is stored x fastest: its local index.
          const double h = std::sin(12.9898 * i + 78.233 * j + 37.719 * k) * 43758.5453;
          rhs[((k - info.zs) * info.ym + (j - info.ys)) * info.xm + (i - info.xs)] = h - std::floor(h) - 0.2;
        }
    PDS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
    PDS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
    PDS_PETSC(VecRestoreArray(b, &rhs));
    PDS_PETSC(VecSet(x, 0.0));
  }

  double true_relative_residual(Vec sol) const { return linear_systems::true_relative_residual(A, sol, b); }


  // 1/2 x.Ax - b.x: DCDM never increases it.
  double energy(Vec sol) const {
    OwnedVec ax;
    PDS_PETSC(VecDuplicate(b, ax.address()));
    PDS_PETSC(MatMult(A, sol, ax));
    PetscScalar xax = 0, bx = 0;
    PDS_PETSC(VecDot(sol, ax, &xax));
    PDS_PETSC(VecDot(b, sol, &bx));
    return 0.5 * xax - bx;
  }
};

void ensure_registered() { ASSERT_EQ(register_dcdm(), 0); }

OwnedKSP make_ksp(const Poisson& p, KSPType type, double rtol, PetscInt max_it = 500) {
  OwnedKSP ksp;
  PDS_PETSC(KSPCreate(PETSC_COMM_WORLD, ksp.address()));
  PDS_PETSC(KSPSetOperators(ksp, p.A, p.A));
  PDS_PETSC(KSPSetDM(ksp, p.da));
  PDS_PETSC(KSPSetDMActive(ksp, PETSC_FALSE));
  PDS_PETSC(KSPSetType(ksp, type));
  PDS_PETSC(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
  PDS_PETSC(KSPSetTolerances(ksp, rtol, 1e-50, PETSC_DEFAULT, max_it));
  return ksp;
}

PetscInt solve(KSP ksp, const Poisson& p, KSPConvergedReason* reason = nullptr) {
  PDS_PETSC(VecSet(p.x, 0.0));
  PDS_PETSC(KSPSolve(ksp, p.b, p.x));
  PetscInt its = 0;
  PDS_PETSC(KSPGetIterationNumber(ksp, &its));
  if (reason) PDS_PETSC(KSPGetConvergedReason(ksp, reason));
  return its;
}

// PETSc's SOR with relaxation omega on `pc`: a symmetric sweep (block SSOR on several
// ranks, a fixed SPD preconditioner) or a forward sweep (fixed, linear, not symmetric).
void set_sor(PC pc, double omega, bool symmetric) {
  PDS_PETSC(PCSetType(pc, PCSOR));
  PDS_PETSC(PCSORSetOmega(pc, omega));
  PDS_PETSC(PCSORSetSymmetric(pc, symmetric ? SOR_LOCAL_SYMMETRIC_SWEEP : SOR_LOCAL_FORWARD_SWEEP));
}

// A set-up SOR preconditioner as above.
PetscHandle<PC, PCDestroy> sor(Mat A, double omega, bool symmetric = true) {
  PetscHandle<PC, PCDestroy> pc;
  PDS_PETSC(PCCreate(PETSC_COMM_WORLD, pc.address()));
  PDS_PETSC(PCSetOperators(pc, A, A));
  set_sor(pc, omega, symmetric);
  PDS_PETSC(PCSetUp(pc));
  return pc;
}

// Sets PETSc options for one test; cleared when it ends.
struct ScopedOptions {
  std::vector<std::string> names;
  void set(const std::string& name, const std::string& value = "") {
    PDS_PETSC(PetscOptionsSetValue(nullptr, name.c_str(), value.empty() ? nullptr : value.c_str()));
    names.push_back(name);
  }
  ~ScopedOptions() {
    for (const auto& n : names) (void)PetscOptionsClearValue(nullptr, n.c_str());
  }
};

// KSPSetFromOptions with `options` ({"ksp_dcdm_model", "untrained"}, ...) under the KSP's
// own prefix; they stay set (for what KSPSolve reads, like -ksp_converged_reason) until
// the returned object goes.
ScopedOptions from_options(KSP ksp, const std::string& prefix,
                           const std::vector<std::pair<std::string, std::string>>& options) {
  PDS_PETSC(KSPSetOptionsPrefix(ksp, prefix.c_str()));
  ScopedOptions scoped;
  for (const auto& [name, value] : options) scoped.set("-" + prefix + name, value);
  PDS_PETSC(KSPSetFromOptions(ksp));
  return scoped;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The network

TEST(DcdmNet, ShapeParameterCountAndNames) {
  DcdmNetOptions o3;
  DcdmNet net3(o3);
  EXPECT_EQ(net3->num_parameters(), 97457);
  DcdmNetOptions o2;
  o2.dim = 2;
  DcdmNet net2(o2);
  EXPECT_EQ(net2->num_parameters(), 32657);
  std::vector<std::string> names;
  for (const auto& p : net3->named_parameters()) names.push_back(p.key());
  for (const char* n : {"conv_in.weight", "conv_in.bias", "enc_in.weight", "enc_block.conv1.weight",
                        "enc_block.conv2.bias", "enc_out.weight", "half.0.conv1.weight", "half.2.conv2.bias",
                        "up.0.conv1.weight", "up.1.conv2.bias", "conv_out.weight", "conv_out.bias"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(names.size(), 32u);  // 16 convolutions, weight + bias
  EXPECT_EQ(net3->named_parameters()["conv_in.weight"].sizes().vec(), (std::vector<std::int64_t>{16, 1, 3, 3, 3}));
  EXPECT_EQ(net2->named_parameters()["half.1.conv1.weight"].sizes().vec(), (std::vector<std::int64_t>{16, 16, 3, 3}));
  EXPECT_EQ(net3->named_parameters()["conv_out.weight"].sizes().vec(), (std::vector<std::int64_t>{1, 16, 1, 1, 1}));
  DcdmNetOptions nobias;
  nobias.bias = false;
  EXPECT_EQ(DcdmNet(nobias)->num_parameters(), 97457 - 15 * 16 - 1);
}

TEST(DcdmNet, AnyGridSizeIncludingOdd) {
  torch::NoGradGuard guard;
  DcdmNetOptions o2;
  o2.dim = 2;
  DcdmNet net2(o2), net3{DcdmNetOptions{}};
  for (auto shape : std::vector<std::vector<std::int64_t>>{{2, 1, 16, 12}, {1, 1, 13, 8}, {1, 1, 1, 5}})
    EXPECT_EQ(net2->forward(torch::randn(shape)).sizes().vec(), shape);
  for (auto shape : std::vector<std::vector<std::int64_t>>{{1, 1, 8, 6, 10}, {1, 1, 7, 5, 9}})
    EXPECT_EQ(net3->forward(torch::randn(shape)).sizes().vec(), shape);
  // Odd sizes: the same as padding with a zero plane by hand and cropping.
  auto x = torch::randn({1, 1, 7, 5, 9});
  auto padded = torch::zeros({1, 1, 8, 6, 10});
  padded.narrow(2, 0, 7).narrow(3, 0, 5).narrow(4, 0, 9).copy_(x);
  auto expected = net3->forward(padded).narrow(2, 0, 7).narrow(3, 0, 5).narrow(4, 0, 9);
  EXPECT_TRUE(torch::allclose(net3->forward(x), expected, 1e-5, 1e-6));
  // The inference path (oneDNN called directly) agrees with torch's own dispatch.
  for (auto shape : std::vector<std::vector<std::int64_t>>{{1, 1, 12, 10, 8}, {1, 1, 33, 32, 31}}) {
    auto in = torch::randn(shape);
    torch::Tensor with_grad;
    {
      torch::AutoGradMode on(true);
      with_grad = net3->forward(in).detach();
    }
    EXPECT_TRUE(torch::allclose(net3->forward(in), with_grad, 1e-4, 1e-5));
  }
  EXPECT_NE(error_of([&] { net3->forward(torch::randn({1, 2, 4, 4, 4})); }).find("expected input [B, 1, Z, Y, X]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { net2->forward(torch::randn({1, 1, 4, 4, 4})); }).find("expected input [B, 1, Y, X]"),
            std::string::npos);
}

TEST(DcdmNet, FilesRoundTripWithTheArchitecture) {
  const std::string dir = pdestream::testing::scratch_dir("dcdm_files", PETSC_COMM_WORLD);
  const std::string path = dir + "/net.safetensors";
  DcdmNetOptions o;
  o.dim = 2;
  o.channels = 8;
  o.half_blocks = 1;
  torch::manual_seed(11);  // rank 0 writes the file, every rank compares with its own copy
  DcdmNet net(o);
  if (rank_of_world() == 0) save_dcdm_net(path, net, {{"trained_on", "17x17"}});
  MPI_Barrier(PETSC_COMM_WORLD);
  auto meta = read_dcdm_metadata(path);
  EXPECT_EQ(meta.at("trained_on"), "17x17");
  EXPECT_EQ(meta.at("format"), "pt");
  auto arch = nlohmann::json::parse(meta.at("model"));
  EXPECT_EQ(arch.at("name"), "dcdm");
  EXPECT_EQ(arch.at("channels"), 8);
  auto back = load_dcdm_net(path);
  EXPECT_EQ(back->options().half_blocks, 1);
  torch::NoGradGuard guard;
  auto x = torch::randn({1, 1, 20, 14});  // another grid than "trained on": fully convolutional
  EXPECT_TRUE(torch::equal(net->forward(x), back->forward(x)));
  EXPECT_EQ(back->options().input, "rms");
  EXPECT_EQ(arch.at("input"), "rms");

  // Errors name the file and the problem.
  EXPECT_NE(error_of([&] { load_dcdm_net(dir + "/missing.safetensors"); }).find("does not exist"),
            std::string::npos);
  if (rank_of_world() == 0) {
    io::write_safetensors(dir + "/other.safetensors", {}, {{"model", R"({"name": "fno"})"}});
    io::write_safetensors(dir + "/extra_key.safetensors", {},
                          {{"model", R"({"name": "dcdm", "dim": 2, "depth": 4})"}});
    io::write_safetensors(dir + "/bad_input.safetensors", {},
                          {{"model", R"({"name": "dcdm", "dim": 2, "input": "l1"})"}});
    // A file from before the "input" key: its network was fed r / |r|.
    auto old = io::read_safetensors(path);
    auto arch_old = nlohmann::json::parse(old.metadata.at("model"));
    arch_old.erase("input");
    old.metadata["model"] = arch_old.dump();
    io::write_safetensors(dir + "/before_input.safetensors", old.tensors, old.metadata);
    // A tensor of the wrong shape.
    auto records = io::read_safetensors(path);
    for (auto& r : records.tensors)
      if (r.name == "conv_in.weight") {
        r.shape = {8, 1, 9};  // the same bytes, another shape
    }
    io::write_safetensors(dir + "/bad_shape.safetensors", records.tensors, records.metadata);
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  EXPECT_NE(error_of([&] { load_dcdm_net(dir + "/other.safetensors"); }).find("not a DCDM model"), std::string::npos);
  EXPECT_NE(error_of([&] { load_dcdm_net(dir + "/extra_key.safetensors"); }).find("depth"), std::string::npos);
  const std::string bad_input = error_of([&] { load_dcdm_net(dir + "/bad_input.safetensors"); });
  EXPECT_NE(bad_input.find("input"), std::string::npos) << bad_input;
  EXPECT_NE(bad_input.find("l1"), std::string::npos) << bad_input;
  EXPECT_EQ(load_dcdm_net(dir + "/before_input.safetensors")->options().input, "unit");
  const std::string e = error_of([&] { load_dcdm_net(dir + "/bad_shape.safetensors"); });
  EXPECT_NE(e.find("conv_in.weight"), std::string::npos) << e;
}

// The network operator sees the whole grid on any rank count: applied to a distributed
// Vec it equals the network evaluated on the gathered field.
TEST(DcdmNet, OperatorEqualsTheNetworkOnTheWholeField) {
  for (int dim : {2, 3}) {
    Poisson p(dim, 12, 10, 7);
    DcdmNetOptions o;
    o.dim = dim;
    torch::manual_seed(7);  // the same weights on every rank
    DcdmNet net(o);
    auto op = make_network_operator(net, p.da);
    OwnedVec q;
    PDS_PETSC(VecDuplicate(p.b, q.address()));
    ASSERT_EQ(op(p.b, q), 0);
    NaturalGather all(p.da, NaturalGather::Target::All);
    auto input = all.gather(p.b).clone();
    auto output = all.gather(q).clone();
    torch::NoGradGuard guard;
    auto expected = net->direction(input.to(torch::kFloat32).unsqueeze(0).unsqueeze(0)).squeeze(0).squeeze(0);
    EXPECT_TRUE(torch::allclose(output, expected.to(torch::kFloat64), 1e-6, 1e-7)) << "dim " << dim;
  }
}

// direction(): "rms" feeds the residual at unit RMS per cell (r sqrt(N) for |r| = 1, N
// cells per sample), "unit" feeds it as it is; the output is the network's.
TEST(DcdmNet, DirectionScalesTheInputByItsRms) {
  torch::NoGradGuard guard;
  DcdmNetOptions o;
  o.dim = 2;
  o.channels = 4;
  o.half_blocks = 1;
  o.up_blocks = 1;
  torch::manual_seed(5);
  DcdmNet net(o);
  auto r = torch::randn({2, 1, 10, 9});
  r /= r.flatten(1).norm(2, {1}).view({2, 1, 1, 1});
  EXPECT_TRUE(torch::allclose(net->direction(r), net->forward(r * std::sqrt(90.0)), 1e-5, 1e-6));
  o.input = "unit";
  torch::manual_seed(5);
  DcdmNet unit(o);
  EXPECT_TRUE(torch::equal(unit->direction(r), unit->forward(r)));
  o.input = "max";
  EXPECT_NE(error_of([&] { DcdmNet bad(o); }).find("input: expected \"rms\" or \"unit\", got \"max\""),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------
// KSP dcdm

TEST(DcdmKsp, ExactInverseUpToScaleConvergesInOneIteration) {
  ensure_registered();
  for (int dim : {2, 3}) {
    Poisson p(dim, 9, 8, 7);
    OwnedKSP inverse;
    PDS_PETSC(KSPCreate(PETSC_COMM_WORLD, inverse.address()));
    PDS_PETSC(KSPSetOperators(inverse, p.A, p.A));
    PDS_PETSC(KSPSetType(inverse, KSPPREONLY));
    PC pc;
    PDS_PETSC(KSPGetPC(inverse, &pc));
    PDS_PETSC(PCSetType(pc, PCREDUNDANT));  // LU of the whole matrix, on any rank count
    PDS_PETSC(KSPSetUp(inverse));
    auto ksp = make_ksp(p, kKSPDCDM, 1e-10);
    set_dcdm_operator(ksp, ksp_operator(inverse, 3.7));
    KSPConvergedReason reason;
    EXPECT_EQ(solve(ksp, p, &reason), 1) << "dim " << dim;
    EXPECT_GT(reason, 0);
    EXPECT_LT(p.true_relative_residual(p.x), 1e-10);
    EXPECT_EQ(dcdm_stats(ksp).applications, 1);
  }
}

// With a fixed SPD preconditioner M in place of the network, DCDM(k) is a truncated
// flexible CG: PETSc's FCG with mmax = k and the *standard* truncation (orthogonalise
// against the last min(i, mmax) directions; the default, Notay's, restarts the window
// every mmax iterations) and the same M. For a symmetric M every k gives PCG's count; a
// forward (non-symmetric) SOR sweep makes the count depend on k, so the truncation itself
// is compared too.
TEST(DcdmKsp, FixedPreconditionerMatchesFcgWithTheSameTruncation) {
  ensure_registered();
  for (int dim : {2, 3}) {
    Poisson p(dim, 24, 20, 12);
    for (bool symmetric : {true, false}) {
      auto M = sor(p.A, 1.4, symmetric);
      for (PetscInt k : {1, 2, 4}) {
        auto fcg = make_ksp(p, KSPFCG, 1e-8);
        PDS_PETSC(KSPFCGSetMmax(fcg, k));
        PDS_PETSC(KSPFCGSetTruncationType(fcg, KSP_FCD_TRUNC_TYPE_STANDARD));
        PC pc;
        PDS_PETSC(KSPGetPC(fcg, &pc));
        set_sor(pc, 1.4, symmetric);
        KSPConvergedReason fcg_reason;
        const PetscInt fcg_its = solve(fcg, p, &fcg_reason);
        ASSERT_GT(fcg_reason, 0);
        for (PetscBool true_residual : {PETSC_TRUE, PETSC_FALSE}) {
          auto ksp = make_ksp(p, kKSPDCDM, 1e-8);
          set_dcdm_operator(ksp, pc_operator(M));
          set_dcdm_directions(ksp, static_cast<int>(k));
          auto opts = from_options(ksp, "fcgcmp_", {{"ksp_dcdm_true_residual", true_residual ? "true" : "false"}});
          KSPConvergedReason reason;
          const PetscInt its = solve(ksp, p, &reason);
          EXPECT_GT(reason, 0);
          EXPECT_LE(std::abs(its - fcg_its), 1)
              << "dim " << dim << (symmetric ? " SSOR" : " forward SOR") << ", k " << k << ": dcdm " << its
              << ", fcg " << fcg_its << (true_residual ? " (true residual)" : " (recurrence)");
          EXPECT_LT(p.true_relative_residual(p.x), 1e-8 * (true_residual ? 1.0 : 1.01));
          if (rank_of_world() == 0 && true_residual)
            std::printf("  dim %d %s k %d: dcdm %d its, fcg(mmax %d, standard) %d its\n", dim,
                        symmetric ? "SSOR" : "forward SOR", (int)k, (int)its, (int)k, (int)fcg_its);
        }
      }
    }
  }
}

TEST(DcdmKsp, UntrainedNetworkRunsEndToEnd2dAnd3d) {
  ensure_registered();
  struct Grid {
    int dim;
    PetscInt nx, ny, nz;
  };
  for (const Grid g : {Grid{2, 21, 16, 1}, Grid{3, 10, 9, 8}}) {
    Poisson p(g.dim, g.nx, g.ny, g.nz);
    auto ksp = make_ksp(p, kKSPDCDM, 1e-12, 12);
    auto opts = from_options(ksp, "untrained_", {{"ksp_dcdm_model", "untrained"}, {"ksp_dcdm_seed", "3"}});
    std::vector<PetscReal> history(20);
    PDS_PETSC(KSPSetResidualHistory(ksp, history.data(), static_cast<PetscInt>(history.size()), PETSC_TRUE));
    KSPConvergedReason reason;
    const PetscInt its = solve(ksp, p, &reason);
    EXPECT_EQ(its, 12) << "dim " << g.dim;
    EXPECT_EQ(reason, KSP_DIVERGED_ITS);
    EXPECT_EQ(dcdm_stats(ksp).applications, 12);
    PetscInt n = 0;
    PDS_PETSC(KSPGetResidualHistory(ksp, nullptr, &n));
    EXPECT_EQ(n, 13);
    for (PetscInt i = 0; i < n; ++i) EXPECT_TRUE(std::isfinite(history[i]));
    // Every step minimises the energy 1/2 x.Ax - b.x along its direction: from 0 at x0 = 0 it went down.
    EXPECT_LT(p.energy(p.x), 0.0);
    KSPNormType norm;
    PDS_PETSC(KSPGetNormType(ksp, &norm));
    EXPECT_EQ(norm, KSP_NORM_UNPRECONDITIONED);
  }
}

// Solid cells are identity rows with b = 0, so x = 0 there. The network's output in them
// is replaced by the exact r_i / a_ii (0 here): x stays exactly 0 in solids, and the fluid
// residual falls as it does without the obstacle (before this, the network's values in
// solids fed back as residual and a 32^3 sphere took 1199 iterations instead of 15).
TEST(DcdmKsp, SolidCellsStayExactlyZero) {
  ensure_registered();
  for (const bool as_pc : {false, true})
  for (const char* kind : {"sphere", "random-boxes"}) {
    PoissonOptions o;
    o.dim = 3;
    o.n = {12, 11, 10};
    o.obstacle.kind = kind;
    o.obstacle.radius = 0.3;
    PoissonProblem p(o, PETSC_COMM_WORLD);
    ASSERT_LT(p.fluid_cells(), p.unknowns()) << kind;
    OwnedKSP ksp;
    PDS_PETSC(KSPCreate(PETSC_COMM_WORLD, ksp.address()));
    PDS_PETSC(KSPSetOperators(ksp, p.A(), p.A()));
    PDS_PETSC(KSPSetDM(ksp, p.dm()));
    PDS_PETSC(KSPSetDMActive(ksp, PETSC_FALSE));
    PDS_PETSC(KSPSetType(ksp, as_pc ? KSPFCG : kKSPDCDM));
    PDS_PETSC(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
    PDS_PETSC(KSPSetTolerances(ksp, 1e-12, 1e-50, PETSC_DEFAULT, 8));
    auto opts = as_pc ? from_options(ksp, "solidpc_",
                                     {{"pc_type", "dcdm"}, {"pc_dcdm_model", "untrained"}, {"pc_dcdm_seed", "1"}})
                      : from_options(ksp, "solid_", {{"ksp_dcdm_model", "untrained"}, {"ksp_dcdm_seed", "1"}});
    PDS_PETSC(KSPSolve(ksp, p.b(), p.x()));
    if (as_pc) {
      PC pc = nullptr;
      PDS_PETSC(KSPGetPC(ksp, &pc));
      EXPECT_GE(dcdm_stats(pc).applications, 8) << kind << " (FCG + PC dcdm)";
    } else {
      EXPECT_EQ(dcdm_stats(ksp).applications, 8) << kind;
    }
    const PetscScalar *x = nullptr, *mask = nullptr;
    PetscInt n = 0;
    PDS_PETSC(VecGetLocalSize(p.x(), &n));
    PDS_PETSC(VecGetArrayRead(p.x(), &x));
    PDS_PETSC(VecGetArrayRead(p.mask(), &mask));
    int solid = 0, nonzero_solid = 0, moved_fluid = 0;
    for (PetscInt i = 0; i < n; ++i) {
      if (mask[i] == 0.0) {
        ++solid;
        nonzero_solid += x[i] != 0.0;
      } else {
        moved_fluid += x[i] != 0.0;
      }
    }
    PDS_PETSC(VecRestoreArrayRead(p.mask(), &mask));
    PDS_PETSC(VecRestoreArrayRead(p.x(), &x));
    EXPECT_EQ(nonzero_solid, 0) << kind << (as_pc ? " (FCG + PC dcdm)" : "") << ": " << solid
                                << " solid cells on this rank";
    EXPECT_GT(moved_fluid, 0) << kind;
    EXPECT_LT(true_relative_residual(p.A(), p.x(), p.b()), 1.0) << kind;
  }
}

TEST(DcdmKsp, MonitorsAndLogEvents) {
  ensure_registered();
  Poisson p(2, 16, 16);
  auto ksp = make_ksp(p, kKSPDCDM, 1e-6, 4);
  auto opts = from_options(ksp, "mon_",
                           {{"ksp_dcdm_model", "untrained"},
                            {"ksp_dcdm_monitor", ""},
                            {"ksp_monitor", ""},
                            {"ksp_converged_reason", ""}});
  int calls = 0;
  auto count = [](KSP, PetscInt, PetscReal, void* ctx) -> PetscErrorCode {
    ++*static_cast<int*>(ctx);
    return 0;
  };
  PDS_PETSC(KSPMonitorSet(ksp, count, &calls, nullptr));
  const PetscInt its = solve(ksp, p);
  EXPECT_EQ(calls, its + 1);
  PDS_PETSC(KSPView(ksp, PETSC_VIEWER_STDOUT_WORLD));
  PetscLogEvent apply = -1, network = -1;
  PDS_PETSC(PetscLogEventGetId("DCDMApply", &apply));
  PDS_PETSC(PetscLogEventGetId("DCDMNetwork", &network));
  EXPECT_GE(apply, 0);
  EXPECT_GE(network, 0);
}

TEST(DcdmKsp, ClearErrors) {
  ensure_registered();
  Poisson p(2, 12, 12);
  {  // a model file that does not exist
    auto ksp = make_ksp(p, kKSPDCDM, 1e-6);
    auto opts = from_options(ksp, "missing_", {{"ksp_dcdm_model", "no/such/model.safetensors"}});
    const std::string e = error_of([&] { solve(ksp, p); });
    EXPECT_NE(e.find("-ksp_dcdm_model no/such/model.safetensors"), std::string::npos) << e;
    EXPECT_NE(e.find("does not exist"), std::string::npos) << e;
  }
  {  // no model and no operator
    auto ksp = make_ksp(p, kKSPDCDM, 1e-6);
    const std::string e = error_of([&] { solve(ksp, p); });
    EXPECT_NE(e.find("dcdm: no network: give -ksp_dcdm_model FILE"), std::string::npos) << e;
  }
  {  // no grid
    OwnedKSP ksp;
    PDS_PETSC(KSPCreate(PETSC_COMM_WORLD, ksp.address()));
    PDS_PETSC(KSPSetOperators(ksp, p.A, p.A));
    PDS_PETSC(KSPSetType(ksp, kKSPDCDM));
    set_dcdm_model(ksp, "untrained");
    const std::string e = error_of([&] { solve(ksp, p); });
    EXPECT_NE(e.find("dcdm needs a DMDA grid"), std::string::npos) << e;
  }
  {  // a 3D network on a 2D grid
    const std::string dir = pdestream::testing::scratch_dir("dcdm_errors", PETSC_COMM_WORLD);
    if (rank_of_world() == 0) save_dcdm_net(dir + "/net3d.safetensors", DcdmNet(DcdmNetOptions{}));
    MPI_Barrier(PETSC_COMM_WORLD);
    auto ksp = make_ksp(p, kKSPDCDM, 1e-6);
    set_dcdm_model(ksp, dir + "/net3d.safetensors");
    const std::string e = error_of([&] { solve(ksp, p); });
    EXPECT_NE(e.find("the network is 3D, the grid 2D"), std::string::npos) << e;
  }
  {  // the C++ interface on another type
    auto cg = make_ksp(p, KSPCG, 1e-6);
    EXPECT_NE(error_of([&] { set_dcdm_directions(cg, 2); }).find("expected a KSP of type dcdm"), std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------
// PC dcdm

TEST(DcdmPc, InsideFcgAndFgmresAnOperatorActsAsThatPreconditioner) {
  ensure_registered();
  Poisson p(2, 24, 20);
  auto M = sor(p.A, 1.4);
  for (KSPType type : {KSPFCG, KSPFGMRES}) {
    auto reference = make_ksp(p, type, 1e-8);
    PC pc;
    PDS_PETSC(KSPGetPC(reference, &pc));
    set_sor(pc, 1.4, true);
    if (std::string(type) == KSPFGMRES) PDS_PETSC(KSPSetPCSide(reference, PC_RIGHT));
    const PetscInt reference_its = solve(reference, p);

    auto ksp = make_ksp(p, type, 1e-8);
    PDS_PETSC(KSPGetPC(ksp, &pc));
    PDS_PETSC(PCSetType(pc, kPCDCDM));
    set_dcdm_operator(pc, pc_operator(M));
    if (std::string(type) == KSPFGMRES) PDS_PETSC(KSPSetPCSide(ksp, PC_RIGHT));
    KSPConvergedReason reason;
    const PetscInt its = solve(ksp, p, &reason);
    EXPECT_GT(reason, 0) << type;
    // |x| M(x / |x|) = M x: the same iteration up to rounding.
    EXPECT_LE(std::abs(its - reference_its), 1) << type << ": " << its << " vs " << reference_its;
    EXPECT_LT(p.true_relative_residual(p.x), 1.01e-8);
    EXPECT_GE(dcdm_stats(pc).applications, its);
  }
}

TEST(DcdmPc, UntrainedNetworkFromOptionsInFcg) {
  ensure_registered();
  Poisson p(3, 10, 8, 9);
  auto ksp = make_ksp(p, KSPFCG, 1e-12, 8);
  auto opts = from_options(ksp, "pcnet_", {{"pc_type", "dcdm"}, {"pc_dcdm_model", "untrained"}});
  KSPConvergedReason reason;
  const PetscInt its = solve(ksp, p, &reason);
  EXPECT_EQ(its, 8);
  EXPECT_LT(p.energy(p.x), 0.0);
  PC pc;
  PDS_PETSC(KSPGetPC(ksp, &pc));
  EXPECT_GE(dcdm_stats(pc).applications, 8);
}

// ---------------------------------------------------------------------------------------
// Timing of one network application (run by hand):
//   test_dcdm --gtest_also_run_disabled_tests --gtest_filter='*Timing*'
// PDESTREAM_DCDM_TIMING_THREADS (2) torch threads; 3D grids 32^3, 64^3, 128^3. Prints the
// fastest and the median of several applications (the fastest is the machine's capability
// when other jobs share the cores).
TEST(DcdmNet, DISABLED_Timing) {
  const char* env = std::getenv("PDESTREAM_DCDM_TIMING_THREADS");
  torch::set_num_threads(env ? std::atoi(env) : 2);
  c10::InferenceMode guard;
  DcdmNet net{DcdmNetOptions{}};
  net->eval();
  for (std::int64_t n : {32, 64, 128}) {
    auto x = torch::randn({1, 1, n, n, n});
    net->forward(x);  // warm-up
    std::vector<double> seconds;
    for (int r = 0; r < (n >= 128 ? 5 : 11); ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      net->forward(x);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(seconds.begin(), seconds.end());
    std::printf("dcdm network %lld^3, %d threads: fastest %.3f s, median %.3f s per application\n", (long long)n,
                torch::get_num_threads(), seconds.front(), seconds[seconds.size() / 2]);
  }
}
