// Reads .pvd collections written by `pdestream export` with VTK's own XML readers (what
// ParaView uses) and compares every frame with the HDF5 dataset it came from (2D or 3D, the
// first channel). With --every K the collections hold frames 0, K, 2K, ... and the last.
//   check_exported [--every K] DATASET.h5 SAMPLE A.pvd [B.pvd ...]
#include <vtkDataArray.h>
#include <vtkImageData.h>
#include <vtkPointData.h>
#include <vtkSmartPointer.h>
#include <vtkXMLGenericDataObjectReader.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "io/hdf5_dataset.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int every = 1;
  if (argc > 2 && std::string(argv[1]) == "--every") {
    every = std::atoi(argv[2]);
    argv += 2;
    argc -= 2;
  }
  if (argc < 4 || every < 1) {
    std::fprintf(stderr, "usage: check_exported [--every K] DATASET.h5 SAMPLE A.pvd [B.pvd ...]\n");
    return 2;
  }
  int failures = 0;
  {  // the reader closes its file before MPI_Finalize
  pdestream::io::DatasetReader reader(argv[1]);
  const int sample = std::atoi(argv[2]);
  const auto& layout = reader.layout();
  const int nx = layout.grid.shape[0], ny = layout.grid.shape[1], nz = layout.grid.shape[2];
  const int nc = static_cast<int>(layout.channels.size());
  const std::string channel = layout.channels.at(0);
  std::vector<int> frames;
  for (int f = 0; f < layout.num_times(); f += every) frames.push_back(f);
  if (frames.back() != layout.num_times() - 1) frames.push_back(layout.num_times() - 1);
  for (int a = 3; a < argc; ++a) {
    const std::filesystem::path pvd = argv[a];
    std::ifstream in(pvd);
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    std::regex entry(R"re(<DataSet[^>]*timestep="([^"]+)"[^>]*file="([^"]+)")re");
    int entries = 0;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), entry); it != std::sregex_iterator(); ++it, ++entries) {
      if (entries >= static_cast<int>(frames.size())) continue;
      const int frame = frames[entries];
      const double time = std::stod((*it)[1]);
      const auto file = pvd.parent_path() / (*it)[2].str();
      const double tolerance = 1e-6 * (layout.num_times() > 1 ? layout.times[1] - layout.times[0] : 1.0);
      if (std::abs(time - layout.times.at(frame)) > tolerance) {
        std::fprintf(stderr, "%s frame %d: time %g, expected %g\n", pvd.c_str(), frame, time, layout.times[frame]);
        ++failures;
      }
      auto vtk = vtkSmartPointer<vtkXMLGenericDataObjectReader>::New();
      vtk->SetFileName(file.c_str());
      vtk->Update();
      auto* image = vtkImageData::SafeDownCast(vtk->GetOutput());
      if (!image) {
        std::fprintf(stderr, "%s: VTK could not read image data\n", file.c_str());
        ++failures;
        continue;
      }
      int dims[3];
      image->GetDimensions(dims);
      auto* u = image->GetPointData()->GetArray(channel.c_str());
      if (dims[0] != nx || dims[1] != ny || dims[2] != nz || !u) {
        std::fprintf(stderr, "%s: dims %dx%dx%d (expected %dx%dx%d), array %s %s\n", file.c_str(), dims[0], dims[1],
                     dims[2], nx, ny, nz, channel.c_str(), u ? "present" : "missing");
        ++failures;
        continue;
      }
      const auto expected = reader.read_frame(sample, frame);
      double worst = 0;
      for (int k = 0; k < nz; ++k)
        for (int j = 0; j < ny; ++j)
          for (int i = 0; i < nx; ++i)
            worst = std::max(worst, std::abs(u->GetTuple1(i + nx * (j + ny * k)) -
                                             expected[((static_cast<std::size_t>(i) * ny + j) * nz + k) * nc]));
      if (worst > 1e-6) {
        std::fprintf(stderr, "%s: values differ from the dataset by %g\n", file.c_str(), worst);
        ++failures;
      }
    }
    if (entries != static_cast<int>(frames.size())) {
      std::fprintf(stderr, "%s: %d frames, expected %zu\n", pvd.c_str(), entries, frames.size());
      ++failures;
    }
    std::printf("%s: %d frames checked\n", pvd.c_str(), entries);
  }
  }
  MPI_Finalize();
  return failures ? 1 : 0;
}
