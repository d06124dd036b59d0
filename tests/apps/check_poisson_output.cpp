// Reads what `pdestream poisson --grid ... --out DIR` wrote: DIR/poisson.pvd through VTK's own
// XML readers (what ParaView uses) and DIR/solution.bin as raw PETSc binary, and checks that
// they agree: grid dimensions, cell-centre origin and spacing, the arrays u, b and mask, and
// every value of u against the binary file (natural ordering, x fastest, like VTK's points).
//   check_poisson_output DIR NX NY [NZ]
#include <vtkDataArray.h>
#include <vtkImageData.h>
#include <vtkPointData.h>
#include <vtkSmartPointer.h>
#include <vtkXMLGenericDataObjectReader.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

namespace {

bool read_big_endian(std::istream& in, void* out, std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (!in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(bytes))) return false;
  for (std::size_t k = 0; k < bytes; ++k) static_cast<unsigned char*>(out)[k] = buf[bytes - 1 - k];
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: check_poisson_output DIR NX NY [NZ]\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int n[3] = {std::atoi(argv[2]), std::atoi(argv[3]), argc > 4 ? std::atoi(argv[4]) : 1};
  const long long total = static_cast<long long>(n[0]) * n[1] * n[2];
  int failures = 0;

  std::ifstream bin(dir / "solution.bin", std::ios::binary);
  std::int32_t classid = 0, size = 0;
  if (!read_big_endian(bin, &classid, 4) || !read_big_endian(bin, &size, 4) || classid != 1211214 || size != total) {
    std::fprintf(stderr, "%s: expected a PETSc binary vector of %lld values, got class id %d size %d\n",
                 (dir / "solution.bin").c_str(), total, classid, size);
    return 1;
  }
  std::vector<double> u(static_cast<std::size_t>(total));
  for (double& v : u)
    if (!read_big_endian(bin, &v, 8)) {
      std::fprintf(stderr, "solution.bin: truncated\n");
      return 1;
    }

  std::ifstream in(dir / "poisson.pvd");
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  std::smatch m;
  if (!std::regex_search(s, m, std::regex(R"re(<DataSet[^>]*file="([^"]+)")re"))) {
    std::fprintf(stderr, "%s: no data set in the collection\n", (dir / "poisson.pvd").c_str());
    return 1;
  }
  const auto file = dir / m[1].str();
  auto reader = vtkSmartPointer<vtkXMLGenericDataObjectReader>::New();
  reader->SetFileName(file.c_str());
  reader->Update();
  auto* image = vtkImageData::SafeDownCast(reader->GetOutput());
  if (!image) {
    std::fprintf(stderr, "%s: VTK could not read image data\n", file.c_str());
    return 1;
  }
  int dims[3];
  double origin[3], spacing[3];
  image->GetDimensions(dims);
  image->GetOrigin(origin);
  image->GetSpacing(spacing);
  for (int a = 0; a < 3; ++a) {
    if (dims[a] != n[a]) {
      std::fprintf(stderr, "%s: dimension %d is %d, expected %d\n", file.c_str(), a, dims[a], n[a]);
      ++failures;
    }
    if (n[a] > 1 && (std::abs(origin[a] - 0.5 / n[a]) > 1e-12 || std::abs(spacing[a] - 1.0 / n[a]) > 1e-12)) {
      std::fprintf(stderr, "%s: axis %d origin %g spacing %g, expected cell centres %g + k %g\n", file.c_str(), a,
                   origin[a], spacing[a], 0.5 / n[a], 1.0 / n[a]);
      ++failures;
    }
  }
  for (const char* name : {"u", "b", "mask"})
    if (!image->GetPointData()->GetArray(name)) {
      std::fprintf(stderr, "%s: array %s missing\n", file.c_str(), name);
      ++failures;
    }
  auto* vu = image->GetPointData()->GetArray("u");
  if (failures || !vu) return 1;
  double worst = 0;
  for (long long p = 0; p < total; ++p) worst = std::max(worst, std::abs(vu->GetTuple1(p) - u[p]));
  if (worst > 1e-12) {
    std::fprintf(stderr, "%s: u differs from solution.bin by %g\n", file.c_str(), worst);
    return 1;
  }
  std::printf("%s and solution.bin agree: %dx%dx%d points, arrays u, b, mask\n", file.c_str(), n[0], n[1], n[2]);
  return 0;
}
