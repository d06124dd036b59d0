// Reads .pvd collections written by `pdestream export` with VTK's own XML readers (what
// ParaView uses) and compares every frame with the HDF5 dataset it came from.
//   check_exported DATASET.h5 SAMPLE A.pvd [B.pvd ...]
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
  if (argc < 4) {
    std::fprintf(stderr, "usage: check_exported DATASET.h5 SAMPLE A.pvd [B.pvd ...]\n");
    return 2;
  }
  int failures = 0;
  pdestream::io::DatasetReader reader(argv[1]);
  const int sample = std::atoi(argv[2]);
  const auto& layout = reader.layout();
  const int nx = layout.grid.shape[0], ny = layout.grid.shape[1];
  for (int a = 3; a < argc; ++a) {
    const std::filesystem::path pvd = argv[a];
    std::ifstream in(pvd);
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    std::regex entry(R"re(<DataSet[^>]*timestep="([^"]+)"[^>]*file="([^"]+)")re");
    int frame = 0;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), entry); it != std::sregex_iterator(); ++it, ++frame) {
      const double time = std::stod((*it)[1]);
      const auto file = pvd.parent_path() / (*it)[2].str();
      if (std::abs(time - layout.times.at(frame)) > 1e-6) {
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
      auto* u = image->GetPointData()->GetArray("u");
      if (dims[0] != nx || dims[1] != ny || !u) {
        std::fprintf(stderr, "%s: dims %dx%d (expected %dx%d), array u %s\n", file.c_str(), dims[0], dims[1], nx, ny,
                     u ? "present" : "missing");
        ++failures;
        continue;
      }
      const auto expected = reader.read_frame(sample, frame);
      double worst = 0;
      for (int j = 0; j < ny; ++j)
        for (int i = 0; i < nx; ++i)
          worst = std::max(worst, std::abs(u->GetTuple1(i + nx * j) - expected[static_cast<std::size_t>(i) * ny + j]));
      if (worst > 1e-6) {
        std::fprintf(stderr, "%s: values differ from the dataset by %g\n", file.c_str(), worst);
        ++failures;
      }
    }
    if (frame != layout.num_times()) {
      std::fprintf(stderr, "%s: %d frames, expected %d\n", pvd.c_str(), frame, layout.num_times());
      ++failures;
    }
    std::printf("%s: %d frames checked\n", pvd.c_str(), frame);
  }
  MPI_Finalize();
  return failures ? 1 : 0;
}
