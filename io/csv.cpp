#include "io/csv.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace pdestream::io {

void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<double>>& rows) {
  std::ofstream out(path);
  PDS_CHECK(out, path << ": expected a writable file for the CSV table, could not open it");
  for (std::size_t c = 0; c < header.size(); ++c) out << (c ? "," : "") << header[c];
  out << "\n";
  out.precision(10);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    PDS_CHECK(rows[r].size() == header.size(),
              path << ": expected " << header.size() << " values in row " << r << ", got " << rows[r].size());
    for (std::size_t c = 0; c < rows[r].size(); ++c) out << (c ? "," : "") << rows[r][c];
    out << "\n";
  }
  out.flush();
  PDS_CHECK(out, path << ": writing the CSV table failed (disk full?)");
}

std::pair<std::vector<std::string>, std::vector<std::vector<double>>> read_csv(const std::string& path) {
  std::ifstream in(path);
  PDS_CHECK(in, path << ": expected a CSV table, found no such file");
  std::pair<std::vector<std::string>, std::vector<std::vector<double>>> table;
  std::string line, item;
  PDS_CHECK(std::getline(in, line), path << ": expected a header line, got an empty file");
  std::stringstream h(line);
  while (std::getline(h, item, ',')) table.first.push_back(item);
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    std::stringstream s(line);
    std::vector<double> row;
    while (std::getline(s, item, ',')) {
      char* end = nullptr;
      row.push_back(std::strtod(item.c_str(), &end));
      PDS_CHECK(end != item.c_str() && *end == '\0',
                path << ":" << number << ": expected a number, got '" << item << "'");
    }
    PDS_CHECK(row.size() == table.first.size(),
              path << ":" << number << ": expected " << table.first.size() << " values, got " << row.size());
    table.second.push_back(std::move(row));
  }
  return table;
}

}  // namespace pdestream::io
