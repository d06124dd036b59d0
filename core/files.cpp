#include "core/files.hpp"

#include <filesystem>
#include <fstream>

#include "core/error.hpp"

namespace pdestream {

namespace fs = std::filesystem;

void write_file(const std::string& path, std::string_view bytes) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    PDS_CHECK(out, "cannot open '" << path << "' for writing");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  // The stream's state can miss a short write that only close() sees; the size cannot.
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const std::uintmax_t written = ec ? 0 : size;
  if (!ec && written == bytes.size()) return;
  fs::remove(path, ec);
  PDS_FAIL("wrote " << written << " of " << bytes.size() << " bytes of " << path << " (disk full?)");
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  write_file(tmp, bytes);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (!ec) return;
  std::error_code ignored;
  fs::remove(tmp, ignored);
  PDS_FAIL("cannot rename '" << tmp << "' to '" << path << "': " << ec.message());
}

}  // namespace pdestream
