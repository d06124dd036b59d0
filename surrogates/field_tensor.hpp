#pragma once
// The one conversion between core's Field (x slowest, channel fastest, float64) and the
// channels-first tensors the models take ([C, *spatial]).

#include <torch/types.h>

#include <string>
#include <vector>

#include "core/grid.hpp"

namespace pdestream::surrogates {

// A whole-grid frame [C, *spatial] (any float dtype) as a Field on the box [0, shape).
Field to_field(const torch::Tensor& frame, const std::vector<std::string>& channels);

// A Field block's values `data` (box `box`, `channels` per point) as a [C, nx, ny, nz]
// float64 view of that memory (no copy: `data` must outlive the view).
torch::Tensor block_view(const double* data, const Box& box, std::int64_t channels);

}  // namespace pdestream::surrogates
