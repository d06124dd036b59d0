#include "io/paraview.hpp"

#include <vtkDoubleArray.h>
#include <vtkErrorCode.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkXMLImageDataWriter.h>

#include <charconv>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/runtime.hpp"

namespace pdestream::io {

namespace fs = std::filesystem;

namespace {


// Shortest decimal text that reads back as the same double.
std::string num(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += ch;
    }
  }
  return out;
}

const char* byte_order() {
  const unsigned one = 1;
  return *reinterpret_cast<const unsigned char*>(&one) == 1 ? "LittleEndian" : "BigEndian";
}

std::string box_text(const Box& b) {
  std::ostringstream os;
  os << "[" << b.lo[0] << ", " << b.hi[0] << ") x [" << b.lo[1] << ", " << b.hi[1] << ") x ["
     << b.lo[2] << ", " << b.hi[2] << ")";
  return os.str();
}

// VTK extent "x0 x1 y0 y1 z0 z1" (inclusive) of a non-empty box.
std::string extent_text(const Box& b) {
  std::ostringstream os;
  os << b.lo[0] << ' ' << b.hi[0] - 1 << ' ' << b.lo[1] << ' ' << b.hi[1] - 1 << ' ' << b.lo[2]
     << ' ' << b.hi[2] - 1;
  return os.str();
}

// Write `text` to `path` through a temporary file and a rename, so readers never see a
// half-written file. Returns an error message, empty on success.
std::string write_atomically(const fs::path& path, const std::string& text) {
  try {
    write_file_atomically(path.string(), text);
  } catch (const Error& e) {
    return e.message();
  }
  return {};
}

// Points of `region` (inside field.box()) packed row-major, x slowest, channel fastest.
void pack(const Field& f, const Box& region, std::vector<double>& out) {
  const int nc = f.num_channels();
  for (int i = region.lo[0]; i < region.hi[0]; ++i)
    for (int j = region.lo[1]; j < region.hi[1]; ++j)
      for (int k = region.lo[2]; k < region.hi[2]; ++k) {
        const double* p = &f.data()[f.offset(i, j, k, 0)];
        out.insert(out.end(), p, p + nc);
      }
}

void unpack(Field& f, const Box& region, const double* in) {
  const int nc = f.num_channels();
  for (int i = region.lo[0]; i < region.hi[0]; ++i)
    for (int j = region.lo[1]; j < region.hi[1]; ++j)
      for (int k = region.lo[2]; k < region.hi[2]; ++k) {
        double* p = &f.data()[f.offset(i, j, k, 0)];
        for (int c = 0; c < nc; ++c) p[c] = *in++;
      }
}

}  // namespace

struct ParaViewWriter::Impl {
  fs::path dir;
  std::string name;
  Grid grid;
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  std::string pvd;
  std::vector<std::pair<double, std::string>> entries;  // (time, file relative to dir)
  std::vector<int> checked_boxes;  // last decomposition that passed check_boxes (O(P^2))

  // Box of a rank extended by one point layer on its upper faces (clipped to the grid).
  Box extended(const Box& b) const {
    if (b.empty()) return b;
    Box e = b;
    for (int a = 0; a < grid.dim; ++a) e.hi[a] = std::min(b.hi[a] + 1, grid.shape[a]);
    return e;
  }

  double spacing(int a) const { return a < grid.dim ? grid.spacing(a) : 1.0; }
  double origin(int a) const { return a < grid.dim ? grid.lower[a] : 0.0; }

  void check_boxes(const std::vector<Box>& boxes) const;
  void check_channels(const Field& local) const;
  Field exchange(const Field& local, const std::vector<Box>& boxes) const;
  std::string write_vti(const Field& ext, const fs::path& path) const;
  std::string pvti_text(const std::vector<Box>& boxes, const std::vector<std::string>& channels,
                        const std::string& frame) const;
  std::string pvd_text() const;
};

void ParaViewWriter::Impl::check_boxes(const std::vector<Box>& boxes) const {
  // Every rank holds the same boxes, so every rank reaches the same verdict.
  const Box whole = Box::whole(grid);
  std::size_t total = 0;
  for (int r = 0; r < size; ++r) {
    const Box& b = boxes[r];
    PDS_CHECK(b.empty() || whole.contains(b),
              "ParaView writer '" << name << "': rank " << r << " passed box " << box_text(b)
                                  << ", expected a block inside the grid " << box_text(whole));
    total += b.num_points();
  }
  for (int r = 0; r < size; ++r)
    for (int q = r + 1; q < size; ++q)
      PDS_CHECK(boxes[r].intersect(boxes[q]).empty(),
                "ParaView writer '" << name << "': boxes of ranks " << r << " and " << q
                                    << " overlap (" << box_text(boxes[r]) << " and "
                                    << box_text(boxes[q]) << "), expected disjoint blocks");
  PDS_CHECK(total == whole.num_points(),
            "ParaView writer '" << name << "': the ranks' boxes cover " << total
                                << " points, expected them to tile the grid of "
                                << whole.num_points() << " points");
}

void ParaViewWriter::Impl::check_channels(const Field& local) const {
  std::string mine;
  for (const auto& c : local.channels()) mine += c + '\n';
  std::string ref = mine;
  int n = static_cast<int>(ref.size());
  MPI_Bcast(&n, 1, MPI_INT, 0, comm);
  ref.resize(n);
  MPI_Bcast(ref.data(), n, MPI_CHAR, 0, comm);
  std::string err;
  if (mine != ref) {
    auto list = [](std::string s) {
      for (auto& ch : s) ch = ch == '\n' ? ' ' : ch;
      return s;
    };
    err = "ParaView writer '" + name + "': rank " + std::to_string(rank) + " passed channels [" +
          list(mine) + "], expected the same channels as rank 0 [" + list(ref) + "]";
  } else if (local.size() != local.box().num_points() * local.channels().size()) {
    err = "ParaView writer '" + name + "': field on rank " + std::to_string(rank) + " holds " +
          std::to_string(local.size()) + " values, expected points x channels = " +
          std::to_string(local.box().num_points() * local.channels().size());
  }
  agree_on_error(comm, err);
}

// The local block plus the upper point layers owned by other ranks.
Field ParaViewWriter::Impl::exchange(const Field& local, const std::vector<Box>& boxes) const {
  const int nc = local.num_channels();
  const Box mine = boxes[rank];
  const Box ext = extended(mine);

  std::vector<int> scount(size, 0), sdispl(size, 0), rcount(size, 0), rdispl(size, 0);
  std::vector<double> sendbuf;
  std::size_t stotal = 0, rtotal = 0;
  for (int r = 0; r < size; ++r) {
    if (r == rank) continue;
    const Box out = extended(boxes[r]).intersect(mine);
    const Box in = ext.intersect(boxes[r]);
    const std::size_t ns = out.num_points() * nc, nr = in.num_points() * nc;
    PDS_CHECK(stotal + ns <= INT_MAX && rtotal + nr <= INT_MAX,
              "ParaView writer '" << name << "': halo exchange exceeds 2^31 values");
    scount[r] = static_cast<int>(ns);
    sdispl[r] = static_cast<int>(stotal);
    rcount[r] = static_cast<int>(nr);
    rdispl[r] = static_cast<int>(rtotal);
    stotal += ns;
    rtotal += nr;
    if (ns) pack(local, out, sendbuf);
  }
  std::vector<double> recvbuf(rtotal);
  if (size > 1)
    MPI_Alltoallv(sendbuf.data(), scount.data(), sdispl.data(), MPI_DOUBLE, recvbuf.data(),
                  rcount.data(), rdispl.data(), MPI_DOUBLE, comm);

  Field out(local.channels(), ext);
  if (!mine.empty()) unpack(out, mine, local.data().data());
  for (int r = 0; r < size; ++r)
    if (rcount[r]) unpack(out, ext.intersect(boxes[r]), recvbuf.data() + rdispl[r]);
  return out;
}

std::string ParaViewWriter::Impl::write_vti(const Field& f, const fs::path& path) const {
  const Box& b = f.box();
  const int nx = b.extent(0), ny = b.extent(1), nz = b.extent(2);
  const vtkIdType npts = static_cast<vtkIdType>(b.num_points());
  const int nc = f.num_channels();

  vtkNew<vtkImageData> image;
  image->SetExtent(b.lo[0], b.hi[0] - 1, b.lo[1], b.hi[1] - 1, b.lo[2], b.hi[2] - 1);
  image->SetOrigin(origin(0), origin(1), origin(2));
  image->SetSpacing(spacing(0), spacing(1), spacing(2));
  for (int c = 0; c < nc; ++c) {
    vtkNew<vtkDoubleArray> arr;
    arr->SetName(f.channels()[c].c_str());
    arr->SetNumberOfComponents(1);
    arr->SetNumberOfTuples(npts);
    double* dst = arr->GetPointer(0);
    // Field: x slowest, channel fastest. VTK: x fastest.
    const double* src = f.data().data();
    std::size_t s = 0;
    for (int i = 0; i < nx; ++i)
      for (int j = 0; j < ny; ++j)
        for (int k = 0; k < nz; ++k, ++s)
          dst[i + static_cast<std::size_t>(nx) * (j + static_cast<std::size_t>(ny) * k)] =
              src[s * nc + c];
    image->GetPointData()->AddArray(arr);
  }

  vtkNew<vtkXMLImageDataWriter> writer;
  writer->SetInputData(image);
  writer->SetFileName(path.string().c_str());
  writer->SetDataModeToAppended();
  writer->EncodeAppendedDataOff();
  writer->SetCompressorTypeToZLib();
  writer->SetHeaderTypeToUInt64();
  if (writer->Write() != 1 || writer->GetErrorCode() != vtkErrorCode::NoError) {
    // (vtkErrorCode::GetStringFromErrorCode lives in another VTK library; these are the
    // codes the XML writers set.)
    std::string why;
    switch (writer->GetErrorCode()) {
      case vtkErrorCode::CannotOpenFileError: why = ": cannot open file"; break;
      case vtkErrorCode::OutOfDiskSpaceError: why = ": out of disk space"; break;
      case vtkErrorCode::NoFileNameError: why = ": no file name"; break;
      default: break;
    }
    return "cannot write ParaView file '" + path.string() + "'" + why;
  }
  return {};
}

std::string ParaViewWriter::Impl::pvti_text(const std::vector<Box>& boxes,
                                            const std::vector<std::string>& channels,
                                            const std::string& frame) const {
  std::ostringstream os;
  os << "<?xml version=\"1.0\"?>\n"
     << "<VTKFile type=\"PImageData\" version=\"1.0\" byte_order=\"" << byte_order()
     << "\" header_type=\"UInt64\">\n"
     << "  <PImageData WholeExtent=\"" << extent_text(Box::whole(grid))
     << "\" GhostLevel=\"0\" Origin=\"" << num(origin(0)) << ' ' << num(origin(1)) << ' '
     << num(origin(2)) << "\" Spacing=\"" << num(spacing(0)) << ' ' << num(spacing(1)) << ' '
     << num(spacing(2)) << "\">\n"
     << "    <PPointData>\n";
  for (const auto& c : channels)
    os << "      <PDataArray type=\"Float64\" Name=\"" << xml_escape(c) << "\"/>\n";
  os << "    </PPointData>\n";
  for (int r = 0; r < size; ++r) {
    if (boxes[r].empty()) continue;
    os << "    <Piece Extent=\"" << extent_text(extended(boxes[r])) << "\" Source=\""
       << xml_escape(frame + "/" + frame + "_p" + std::to_string(r) + ".vti") << "\"/>\n";
  }
  os << "  </PImageData>\n</VTKFile>\n";
  return os.str();
}

std::string ParaViewWriter::Impl::pvd_text() const {
  std::ostringstream os;
  os << "<?xml version=\"1.0\"?>\n"
     << "<VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"" << byte_order() << "\">\n"
     << "  <Collection>\n";
  for (const auto& [t, file] : entries)
    os << "    <DataSet timestep=\"" << num(t) << "\" group=\"\" part=\"0\" file=\""
       << xml_escape(file) << "\"/>\n";
  os << "  </Collection>\n</VTKFile>\n";
  return os.str();
}

ParaViewWriter::ParaViewWriter(std::string dir, std::string name, const Grid& grid, MPI_Comm comm)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.dir = fs::path(std::move(dir));
  m.name = std::move(name);
  m.grid = grid;
  m.comm = comm;
  MPI_Comm_rank(comm, &m.rank);
  MPI_Comm_size(comm, &m.size);
  m.pvd = (m.dir / (m.name + ".pvd")).string();
  PDS_CHECK(!m.name.empty() && m.name.find('/') == std::string::npos,
            "ParaView writer: name must be a non-empty file stem without '/', got '" << m.name
                                                                                    << "'");
  grid.validate();
  std::string err;
  if (m.rank == 0) {
    std::error_code ec;
    fs::create_directories(m.dir, ec);
    if (ec || !fs::is_directory(m.dir))
      err = "ParaView writer: cannot create output directory '" + m.dir.string() + "'" +
            (ec ? ": " + ec.message() : std::string());
  }
  agree_on_error(comm, err);
}

ParaViewWriter::~ParaViewWriter() = default;

const std::string& ParaViewWriter::pvd_path() const { return impl_->pvd; }
int ParaViewWriter::frames() const { return static_cast<int>(impl_->entries.size()); }

void ParaViewWriter::write(const Field& local, double time) {
  Impl& m = *impl_;
  // All boxes on every rank: 6 ints each.
  int mine[6] = {local.box().lo[0], local.box().lo[1], local.box().lo[2],
                 local.box().hi[0], local.box().hi[1], local.box().hi[2]};
  std::vector<int> all(6 * m.size);
  MPI_Allgather(mine, 6, MPI_INT, all.data(), 6, MPI_INT, m.comm);
  std::vector<Box> boxes(m.size);
  for (int r = 0; r < m.size; ++r)
    for (int a = 0; a < 3; ++a) {
      boxes[r].lo[a] = all[6 * r + a];
      boxes[r].hi[a] = all[6 * r + 3 + a];
    }
  if (all != m.checked_boxes) {
    m.check_boxes(boxes);
    m.checked_boxes = all;
  }
  m.check_channels(local);

  char stem[32];
  std::snprintf(stem, sizeof stem, "_%06d", frames());
  const std::string frame = m.name + stem;
  std::string file;  // relative to dir, listed in the .pvd

  if (m.size == 1) {
    file = frame + ".vti";
    agree_on_error(m.comm, m.write_vti(local, m.dir / file));
  } else {
    Field ext = m.exchange(local, boxes);
    const fs::path sub = m.dir / frame;
    std::string err;
    if (m.rank == 0) {
      std::error_code ec;
      fs::create_directories(sub, ec);
      if (ec || !fs::is_directory(sub))
        err = "ParaView writer: cannot create directory '" + sub.string() + "'" +
              (ec ? ": " + ec.message() : std::string());
    }
    agree_on_error(m.comm, err);
    if (!ext.box().empty())
      err = m.write_vti(ext, sub / (frame + "_p" + std::to_string(m.rank) + ".vti"));
    agree_on_error(m.comm, err);
    file = frame + ".pvti";
    if (m.rank == 0) err = write_atomically(m.dir / file, m.pvti_text(boxes, local.channels(), frame));
    agree_on_error(m.comm, err);
  }

  m.entries.emplace_back(time, file);
  std::string err;
  if (m.rank == 0) err = write_atomically(m.pvd, m.pvd_text());
  if (!err.empty()) err = "ParaView writer: " + err;
  try {
    agree_on_error(m.comm, err);
  } catch (...) {
    m.entries.pop_back();
    throw;
  }
}

}  // namespace pdestream::io
