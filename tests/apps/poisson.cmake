# End-to-end tests of `pdestream poisson`'s single-system modes (issue 5; included from
# tests/apps/CMakeLists.txt, which defines cli_test, EXPECT, EXPECT_STR, PDS and MPI2): Poisson
# problems on grids (2D/3D, boundaries, obstacles, right-hand sides), SPD matrices from files
# (tests/data, made by tests/data/make_matrices.py), PETSc options passed through, --out read
# back with VTK, and the error paths (one line, non-zero exit).
set(DATA ${PROJECT_SOURCE_DIR}/tests/data)
set(RESIDUAL "true relative residual [0-9]\\.[0-9]+e-(0[6-9]|[1-9][0-9])")

cli_test(poisson_grid3d "unit" ${EXPECT} ok
  "3D Poisson, 16x16x16 cells, Dirichlet on all sides.*KSP cg \\+ PC [a-z]+, rtol 1e-06 \\(UNPRECONDITIONED norm\\).*CONVERGED_RTOL in [0-9]+ iterations, ${RESIDUAL}.*setup [0-9.e-]+ s, solve [0-9.e-]+ s"
  ${PDS} poisson --grid 16 16 16)
cli_test(poisson_gamg_np2 "mpi" ${EXPECT} ok "2 rank\\(s\\).*KSP cg \\+ PC gamg.*CONVERGED_RTOL in [0-9] iterations, ${RESIDUAL}"
  ${MPI2} ${PDS} poisson --grid 24 24 24 -pc_type gamg)
cli_test(poisson_hypre "unit" ${EXPECT} ok "KSP cg \\+ PC hypre.*CONVERGED_RTOL in [0-9] iterations"
  ${PDS} poisson --grid 24 24 24 -pc_type hypre)
cli_test(poisson_ksp_options "unit" ${EXPECT} ok
  "2D Poisson, 16x12 cells.*Linear solve converged due to CONVERGED_RTOL.*KSP fcg \\+ PC jacobi, rtol 1e-08 \\(UNPRECONDITIONED norm\\).*CONVERGED_RTOL"
  ${PDS} poisson --grid 16 12 -ksp_type fcg -pc_type jacobi -ksp_rtol 1e-8 -ksp_converged_reason)
# A KSP without an unpreconditioned norm keeps its own default.
cli_test(poisson_preonly_lu "unit" ${EXPECT} ok "KSP preonly \\+ PC lu.*CONVERGED_ITS in 1 iterations, true relative residual [0-9.]+e-1[0-9]"
  ${PDS} poisson --grid 12 12 -ksp_type preonly -pc_type lu)
cli_test(poisson_manufactured "unit" ${EXPECT} ok "rhs smooth.*max error vs the manufactured solution [0-9.]+e-0[4-9]"
  ${PDS} poisson --grid 64 64 --bc neumann,x-=dirichlet --rhs smooth -ksp_rtol 1e-10)
cli_test(poisson_pure_neumann_np2 "mpi" ${EXPECT} ok
  "Neumann on all sides.*singular \\(1 region\\(s\\) without a Dirichlet side.*CONVERGED_RTOL.*max error vs the manufactured solution [0-9.]+e-0[3-9]"
  ${MPI2} ${PDS} poisson --grid 16 16 16 --bc neumann --rhs smooth -ksp_rtol 1e-10)
cli_test(poisson_obstacles "unit" ${EXPECT} ok "obstacle sphere.*singular.*CONVERGED_RTOL"
  ${PDS} poisson --grid 20 20 20 --bc neumann --obstacle sphere)
cli_test(poisson_random_boxes_np2 "mpi" ${EXPECT} ok "obstacle random-boxes \\(12\\).*CONVERGED_RTOL"
  ${MPI2} ${PDS} poisson --grid 20 20 20 --obstacle random-boxes:12 --seed 4 -pc_type gamg)
cli_test(poisson_mask_file "unit" ${EXPECT} ok "2D Poisson, 16x16 cells.*obstacle .*mask_16x16.npy.*CONVERGED_RTOL"
  ${PDS} poisson --obstacle ${DATA}/mask_16x16.npy --bc neumann,y-=dirichlet)

# --out: solution.bin and ParaView, read back with VTK on 1 and 2 ranks (.vti and .pvti).
add_executable(check_poisson_output check_poisson_output.cpp)
target_link_libraries(check_poisson_output PRIVATE VTK::IOXML VTK::CommonDataModel)
cli_test(poisson_out_np1 "unit" bash -c "${EXPECT_STR} ok 'wrote pout1/solution.bin, pout1/poisson.pvd' \
  $<TARGET_FILE:pdestream> poisson --grid 12 10 8 --rhs smooth --obstacle box --out pout1 && \
  $<TARGET_FILE:check_poisson_output> pout1 12 10 8")
cli_test(poisson_out_np2 "mpi" bash -c "${EXPECT_STR} ok 'wrote pout2/solution.bin, pout2/poisson.pvd' \
  ${MPIEXEC_EXECUTABLE} -n 2 --allow-run-as-root --oversubscribe --bind-to none $<TARGET_FILE:pdestream> poisson \
  --grid 14 9 --bc neumann --rhs smooth --out pout2 && test -e pout2/poisson_000000.pvti && \
  $<TARGET_FILE:check_poisson_output> pout2 14 9")

# SPD matrices from files.
cli_test(poisson_matrix_mtx "unit" ${EXPECT} ok
  "matrix .*poisson2d_8.mtx \\(Matrix Market\\): 64 x 64, 288 nonzeros, rhs random \\(seed 0\\).*KSP cg.*CONVERGED_RTOL"
  ${PDS} poisson --matrix ${DATA}/poisson2d_8.mtx)
cli_test(poisson_matrix_bin_np2 "mpi" ${EXPECT} ok
  "poisson2d_8.bin \\(PETSc binary\\): 64 x 64, 288 nonzeros, rhs from the file. 2 rank.*CONVERGED_RTOL"
  ${MPI2} ${PDS} poisson --matrix ${DATA}/poisson2d_8.bin -pc_type bjacobi)
cli_test(poisson_matrix_rhs_out "unit" bash -c "${EXPECT_STR} ok 'rhs .*rhs_64.mtx.*CONVERGED_RTOL.*wrote pmat/solution.bin' \
  $<TARGET_FILE:pdestream> poisson --matrix ${DATA}/poisson2d_8.mtx --rhs ${DATA}/rhs_64.mtx --out pmat \
  -pc_type icc && test $(stat -c %s pmat/solution.bin) -eq 520")

# --save-system writes A and b in natural ordering: --matrix on it takes the same iterations
# (Jacobi: independent of the ordering), on 2 ranks as on 1.
cli_test(poisson_save_system_np2 "mpi" bash -c "mkdir -p psave && $<TARGET_FILE:pdestream> poisson --grid 16 12 --obstacle box \
  --bc neumann,y-=dirichlet --out psave --save-system -pc_type jacobi | grep -o 'in [0-9]* iterations' > psave/grid.its && \
  ${MPIEXEC_EXECUTABLE} -n 2 --allow-run-as-root --oversubscribe --bind-to none $<TARGET_FILE:pdestream> poisson \
  --matrix psave/system.bin -pc_type jacobi | tee psave/matrix.log | grep -o 'in [0-9]* iterations' > psave/matrix.its && \
  grep -q 'rhs from the file' psave/matrix.log && cat psave/grid.its && diff psave/grid.its psave/matrix.its")

# Errors: one line naming what was expected and what was found.
cli_test(err_poisson_missing_matrix "unit" ${EXPECT} fail
  "nothere.mtx: expected a matrix \\(PETSc binary or Matrix Market .mtx\\), found no such file"
  ${PDS} poisson --matrix nothere.mtx)
cli_test(err_poisson_missing_matrix_np2 "mpi" ${EXPECT} fail "nothere.bin: expected a matrix .*found no such file"
  ${MPI2} ${PDS} poisson --matrix nothere.bin)
cli_test(err_poisson_nonsquare "unit" ${EXPECT} fail "nonsquare.mtx: expected a square matrix, got 3 x 4"
  ${PDS} poisson --matrix ${DATA}/nonsquare.mtx)
cli_test(err_poisson_nonsymmetric_np2 "mpi" ${EXPECT} fail
  "nonsymmetric.mtx: expected a symmetric matrix \\(SPD\\), got \\|\\|A - A\\^T\\|\\|_F / \\|\\|A\\|\\|_F = 0.23"
  ${MPI2} ${PDS} poisson --matrix ${DATA}/nonsymmetric.mtx)
cli_test(err_poisson_malformed "unit" ${EXPECT} fail
  "malformed.mtx:5: expected 'row col value' with 1 <= row <= 2 and 1 <= col <= 2, got '2 1 oops'"
  ${PDS} poisson --matrix ${DATA}/malformed.mtx)
cli_test(err_poisson_rhs_size "unit" ${EXPECT} fail "rhs_64.mtx: expected a vector of 100 values, got 64"
  ${PDS} poisson --grid 10 10 --rhs ${DATA}/rhs_64.mtx)
cli_test(err_poisson_mask_shape "unit" ${EXPECT} fail
  "mask_16x16.npy: expected a mask of shape \\(8, 16\\) \\(ny, nx\\) to match the grid, got \\(16, 16\\)"
  ${PDS} poisson --grid 16 8 --obstacle ${DATA}/mask_16x16.npy)
cli_test(err_poisson_obstacle "unit" ${EXPECT} fail "--obstacle cylinder: expected none, sphere, box, random-boxes or a NumPy .npy mask"
  ${PDS} poisson --grid 8 8 --obstacle cylinder)
cli_test(err_poisson_grid_dims "unit" ${EXPECT} fail "--grid: expected NX NY or NX NY NZ cells, got 64"
  ${PDS} poisson --grid 64)
cli_test(err_poisson_grid_and_matrix "unit" ${EXPECT} fail "--grid and --matrix: expected one of them, got both"
  ${PDS} poisson --grid 8 8 --matrix ${DATA}/poisson2d_8.mtx)
cli_test(err_poisson_bc "unit" ${EXPECT} fail "--bc: expected dirichlet or neumann \\(or d / n\\), got 'periodic'"
  ${PDS} poisson --grid 8 8 --bc x=periodic)
cli_test(err_poisson_bc_matrix "unit" ${EXPECT} fail "--bc applies to --grid problems, not to --matrix"
  ${PDS} poisson --matrix ${DATA}/poisson2d_8.mtx --bc neumann)
cli_test(err_poisson_omega_single "unit" ${EXPECT} fail "--omega applies to --sequence runs only"
  ${PDS} poisson --grid 8 8 --omega fixed:1.5)
cli_test(err_poisson_sequence_matrix "unit" ${EXPECT} fail "--matrix applies to single systems .*not to --sequence"
  ${PDS} poisson --sequence heat2d --matrix ${DATA}/poisson2d_8.mtx)
cli_test(err_poisson_sequence_grid "unit" ${EXPECT} fail
  "--grid: expected N \\(points per axis of a square grid\\) for a sequence, got 20 30"
  ${PDS} poisson --sequence shifted-laplacian --grid 20 30)
cli_test(err_poisson_not_converged_np2 "mpi" ${EXPECT} fail
  "the solve did not converge: DIVERGED_ITS after 3 iterations"
  ${MPI2} ${PDS} poisson --grid 16 16 -ksp_max_it 3)

# pdestream dcdm-train: a tiny run writes the run directory (tests/linear_systems/test_dcdm_train
# trains a model that beats CG); the errors are one line.
cli_test(dcdm_train_tiny "unit" bash -c "${EXPECT_STR} ok \
  'Lanczos: 16 Ritz vectors.*epoch 2/2  step 8  loss.*wrote dtiny/model.safetensors \\(32657 parameters\\)' \
  $<TARGET_FILE:pdestream> dcdm-train --grid 12 12 --ritz 16 --samples 32 --epochs 2 --batch 8 --out dtiny && \
  test $(grep -c 'event.:.step' dtiny/metrics.jsonl) -eq 8 && test -e dtiny/checkpoint.pt && \
  grep -q 'ritz = 16' dtiny/config.toml")
cli_test(err_dcdm_train_ritz "unit" ${EXPECT} fail "--ritz: expected a number of Ritz vectors in \\[2, 5000\\], got 1"
  ${PDS} dcdm-train --grid 8 8 --ritz 1)
cli_test(err_dcdm_train_grid "unit" ${EXPECT} fail "error: --grid is required"
  ${PDS} dcdm-train --ritz 8)
cli_test(err_dcdm_train_batch "unit" ${EXPECT} fail "--batch: expected a batch size in \\[1, samples = 4\\], got 16"
  ${PDS} dcdm-train --grid 8 8 --ritz 8 --samples 4)
cli_test(err_dcdm_train_np2 "mpi" ${EXPECT} fail "dcdm-train runs on one rank. got 2"
  ${MPI2} ${PDS} dcdm-train --grid 8 8)
# The shipped model (models/README.md) converges at 32^3 in fewer iterations than CG+ICC (30).
cli_test(poisson_dcdm_shipped_model "unit" ${EXPECT} ok "KSP dcdm.*CONVERGED_RTOL in (1[0-9]|2[0-9]) iterations, ${RESIDUAL}"
  ${PDS} poisson --grid 32 32 32 -ksp_type dcdm -ksp_dcdm_model ${PROJECT_SOURCE_DIR}/models/dcdm_3d.safetensors)
# ... and around obstacles, which it never saw in training (16^3, no obstacle): solids are
# decoupled identity rows, where the network's output is replaced (1199 iterations before).
cli_test(poisson_dcdm_shipped_model_sphere "unit" ${EXPECT} ok "obstacle sphere.*CONVERGED_RTOL in (1[0-9]|2[0-9]) iterations, ${RESIDUAL}"
  ${PDS} poisson --grid 32 32 32 --obstacle sphere -ksp_type dcdm -ksp_dcdm_model ${PROJECT_SOURCE_DIR}/models/dcdm_3d.safetensors)
cli_test(poisson_dcdm_shipped_model_boxes_np2 "mpi" ${EXPECT} ok "random-boxes.*2 rank.*CONVERGED_RTOL in (1[0-9]|2[0-9]) iterations, ${RESIDUAL}"
  ${MPI2} ${PDS} poisson --grid 24 24 24 --obstacle random-boxes:12 -ksp_type dcdm -ksp_dcdm_model ${PROJECT_SOURCE_DIR}/models/dcdm_3d.safetensors)

# bench/poisson's program on a tiny grid: every method reaches both rtols, on 1 and 2 ranks
# (block Jacobi + ICC there), and a bad method is one line and exit 2.
set(BENCH_ROW "\\| [0-9]+ \\| [0-9]+ \\| [0-9.]+e-0[6-9] \\| [0-9.e-]+ \\| [0-9.e-]+ \\| [0-9.e-]+ \\|")
set(BENCH_ROWS "\\| grid \\| obstacle \\| method \\| its 1e-04 \\| its 1e-06 \\|.*\\| 12³ \\| none \\| CG ${BENCH_ROW}.*\
\\| 12³ \\| sphere \\| CG \\+ ICC\\(0\\) ${BENCH_ROW}.*\\| CG \\+ SSOR ${BENCH_ROW}.*\\| CG \\+ GAMG ${BENCH_ROW}.*\
\\| CG \\+ BoomerAMG ${BENCH_ROW}.*\\| 12³ \\| sphere \\| DCDM ${BENCH_ROW}")
# The benchmark program exists only when the benchmarks are built (make test-asan skips them).
if(PDESTREAM_BUILD_BENCH)
cli_test(bench_poisson_smoke "unit" ${EXPECT} ok "${BENCH_ROWS}"
  $<TARGET_FILE:bench_poisson> --grids 12 --obstacles none,sphere --model ${PROJECT_SOURCE_DIR}/models/dcdm_3d.safetensors --header)
cli_test(bench_poisson_smoke_np2 "mpi" ${EXPECT} ok "${BENCH_ROWS}"
  ${MPI2} $<TARGET_FILE:bench_poisson> --grids 12 --obstacles none,sphere --model ${PROJECT_SOURCE_DIR}/models/dcdm_3d.safetensors --header)
cli_test(err_bench_poisson_method "unit" bash -c "test \"$($<TARGET_FILE:bench_poisson> --methods cg,ilu 2>err.txt || echo $?)\" = 2 \
  && test $(wc -l < err.txt) -eq 1 && grep -q \"unknown method 'cg': expected none, icc, ssor, gamg, hypre or dcdm\" err.txt")
endif()
# The shipped pure-Neumann model (singular A) around a sphere: CG + ICC takes 58 at 32^3.
cli_test(poisson_dcdm_neumann_model "unit" ${EXPECT} ok
  "Neumann on all sides, obstacle sphere.*singular.*KSP dcdm.*CONVERGED_RTOL in (1[0-9]|2[0-9]) iterations, ${RESIDUAL}"
  ${PDS} poisson --grid 32 32 32 --bc neumann --obstacle sphere -ksp_type dcdm -ksp_dcdm_model ${PROJECT_SOURCE_DIR}/models/dcdm_3d_neumann.safetensors)
cli_test(poisson_dcdm_neumann_model_np2 "mpi" ${EXPECT} ok
  "Neumann on all sides.*2 rank.*KSP dcdm.*CONVERGED_RTOL in (1[0-9]|2[0-9]) iterations, ${RESIDUAL}"
  ${MPI2} ${PDS} poisson --grid 24 24 24 --bc neumann -ksp_type dcdm -ksp_dcdm_model ${PROJECT_SOURCE_DIR}/models/dcdm_3d_neumann.safetensors)
