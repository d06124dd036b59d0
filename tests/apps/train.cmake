# End-to-end tests of `pdestream train` (included from tests/apps/CMakeLists.txt, which
# defines cli_test, EXPECT, PDS, MPI2 and CFG). A tiny heat2d dataset, then dry run,
# training on 1 and 2 ranks, resume, and the error paths.
set(TRAIN_CFG ${PROJECT_SOURCE_DIR}/configs/heat2d_fno.toml)
set(TINY_DATA --set solver.nx=16 --set solver.ny=16 --set solver.outputs=4 --set solver.steps_per_output=2)
set(TINY_MODEL --set data.path=train_data.h5 --set model.width=8 --set model.modes=4 --set training.batch_size=8
    --set training.threads=1)

cli_test(train_data "unit" ${EXPECT} ok "wrote train_data.h5: 12 samples"
  ${PDS} generate --config ${CFG} ${TINY_DATA} --samples 12 --out train_data.h5 --set output.dir=train_gen)
set_tests_properties(cli_train_data PROPERTIES FIXTURES_SETUP train_data)

cli_test(train_dry_run "unit" ${EXPECT} ok "fno: [0-9]+ parameters.*data: train_data.h5 \\(10 training, 2 validation"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --dry-run)
cli_test(train_np1 "unit" ${EXPECT} ok "done: step 14, .*validation relative L2"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set training.epochs=2 --set output.dir=train1)
cli_test(train_np2 "mpi" ${EXPECT} ok "2 trainer rank.*done: step 14"
  ${MPI2} ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set training.epochs=2 --set output.dir=train2)
set_tests_properties(cli_train_dry_run cli_train_np1 cli_train_np2 PROPERTIES FIXTURES_REQUIRED train_data)
set_tests_properties(cli_train_np1 PROPERTIES FIXTURES_SETUP train_run)
cli_test(train_resume "unit" ${EXPECT} ok "resumed train1 at step 14.*done: step 21"
  ${PDS} train --resume train1 --set training.epochs=3)
set_tests_properties(cli_train_resume PROPERTIES FIXTURES_REQUIRED "train_data;train_run")
cli_test(train_outputs "unit" bash -c "test -s train1/model.safetensors && test -s train1/checkpoint.pt && \
  grep -q '\"val_rel_l2\"' train1/metrics.jsonl && grep -q 'name = \"fno\"' train1/config.toml")
set_tests_properties(cli_train_outputs PROPERTIES FIXTURES_REQUIRED train_run DEPENDS cli_train_resume)

cli_test(err_train_missing_data "unit" ${EXPECT} fail "nothere.h5"
  ${PDS} train --config ${TRAIN_CFG} --set data.path=nothere.h5)
cli_test(err_train_unknown_model "unit" ${EXPECT} fail "\\[model\\] name: expected one of: fno, mlp, unet, got \"fnoo\""
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set model.name=fnoo)
cli_test(err_train_bad_key "unit" ${EXPECT} fail "\\[training\\] epoch: unknown key"
  ${PDS} train --config ${TRAIN_CFG} ${TINY_MODEL} --set training.epoch=3)
cli_test(err_train_no_config "unit" ${EXPECT} fail "train needs --config FILE or --resume RUN_DIR" ${PDS} train)
cli_test(err_train_resume_missing "unit" ${EXPECT} fail "--resume nowhere: no config.toml there"
  ${PDS} train --resume nowhere)
set_tests_properties(cli_err_train_unknown_model cli_err_train_bad_key PROPERTIES FIXTURES_REQUIRED train_data)
