#pragma once
// Plain CSV tables (a header line, then one line of numbers per row), for time series such as
// receiver impulse responses: what a spreadsheet, numpy.loadtxt(..., delimiter=",",
// skiprows=1) or pandas reads without options.

#include <string>
#include <vector>

namespace pdestream::io {

// Writes `header` joined by commas, then every row with 10 significant digits. Every row must
// have header.size() values; a file that cannot be written is a one-line Error.
void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<double>>& rows);

// The header and rows of such a file (a missing file or a non-number is a one-line Error).
std::pair<std::vector<std::string>, std::vector<std::vector<double>>> read_csv(const std::string& path);

}  // namespace pdestream::io
