# find_package(pdestream): the targets pdestream::core, ::solvers, ::io, ::surrogates,
# ::training, ::online_training, ::linear_systems and ::apps (the command line, whose
# pdestream::apps::main a program calls after registering its own solvers), with every
# dependency they link found here. The project must enable C and CXX (MPI and HDF5 are
# found for both).
#
#   find_package(pdestream 0.1 REQUIRED)
#   target_link_libraries(my_program PRIVATE pdestream::apps)
if(NOT CMAKE_C_COMPILER_LOADED OR NOT CMAKE_CXX_COMPILER_LOADED)
  set(pdestream_FOUND FALSE)
  set(pdestream_NOT_FOUND_MESSAGE
      "pdestream needs the C and CXX languages enabled: project(<name> C CXX)")
  return()
endif()
include(${CMAKE_CURRENT_LIST_DIR}/PdestreamLinkDependencies.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/pdestreamTargets.cmake)
