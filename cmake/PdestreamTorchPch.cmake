# Precompiled <torch/torch.h> shared by every target that includes torch.
#
# Parsing torch/torch.h costs ~17 s per translation unit on this machine; a precompiled
# header built once and reused cuts that to a few seconds per file. Targets opt in with
#   pdestream_use_torch(<target>)
# which links torch and, when PDESTREAM_TORCH_PCH is ON, reuses the one PCH built by
# pdestream_torch_pch. GCC only accepts a PCH compiled with the same flags, so the PCH
# target links exactly what torch consumers get (torch, core's MPI/PETSc include paths)
# and consumers must not add flags that change code generation (-fPIC, -O, -std).
#
# ccache caches compiles that use a PCH only with sloppiness pch_defines,time_macros.
# ccache 4.7 (Debian 12) has no `ccache key=value compiler` form, so the setting is
# passed through the environment by `cmake -E env` in the project-wide launcher.

if(COMMAND pdestream_use_torch)
  return()
endif()

function(_pdestream_torch_launcher target)
  # The project-wide launcher (top-level CMakeLists.txt) already sets the sloppiness the
  # PCH needs and a base_dir; nothing target-specific is left to do.
endfunction()

if(PDESTREAM_TORCH_PCH AND NOT TARGET pdestream_torch_pch)
  # An object library needs at least one source; the PCH is built alongside it.
  set(_pch_src ${CMAKE_BINARY_DIR}/pdestream_torch_pch.cpp)
  if(NOT EXISTS ${_pch_src})
    file(WRITE ${_pch_src} "// Anchor for the torch precompiled header (cmake/PdestreamTorchPch.cmake).\n")
  endif()
  add_library(pdestream_torch_pch OBJECT ${_pch_src})
  target_link_libraries(pdestream_torch_pch PUBLIC pdestream::core ${TORCH_LIBRARIES}
                                                   nlohmann_json::nlohmann_json)
  target_precompile_headers(pdestream_torch_pch PRIVATE
    <torch/torch.h> <nlohmann/json.hpp> <vector> <string> <memory> <sstream>)
  _pdestream_torch_launcher(pdestream_torch_pch)
endif()

# Link torch into `target` and, when enabled, reuse the shared torch PCH.
function(pdestream_use_torch target)
  target_link_libraries(${target} PRIVATE ${TORCH_LIBRARIES} nlohmann_json::nlohmann_json)
  if(PDESTREAM_TORCH_PCH)
    # The PCH target must exist before REUSE_FROM and carry the same link interface.
    target_link_libraries(${target} PRIVATE pdestream::core)
    target_precompile_headers(${target} REUSE_FROM pdestream_torch_pch)
  endif()
  _pdestream_torch_launcher(${target})
endfunction()
