#include "io/hdf5_dataset.hpp"

#include <hdf5.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>

#include "core/error.hpp"
#include "core/runtime.hpp"

namespace pdestream::io {

namespace fs = std::filesystem;

namespace {

constexpr const char* kVersion = "0.1.0";
constexpr const char* kAxisNames[3] = {"x-coordinate", "y-coordinate", "z-coordinate"};

// HDF5 prints its whole error stack to stderr by default; we turn that into one-line
// pdestream::Error messages instead.
void silence_hdf5() {
  static const bool done = [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

herr_t innermost_error(unsigned n, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (n == 0 && e) {
    if (e->desc && *e->desc) {
      *out = e->desc;
    } else {
      char buf[256] = {0};
      if (H5Eget_msg(e->min_num, nullptr, buf, sizeof buf) > 0) *out = buf;
    }
  }
  return 0;
}

// The most specific message on HDF5's error stack (e.g. "truncated file: eof = ..."),
// formatted as " (hdf5: ...)", then the stack is cleared.
std::string hdf5_reason() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, &msg);
  H5Eclear2(H5E_DEFAULT);
  return msg.empty() ? std::string() : " (hdf5: " + msg + ")";
}

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), closer_(o.closer_) {}
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      closer_ = o.closer_;
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  operator hid_t() const { return id_; }
  // Closes now and reports whether closing succeeded.
  bool close() {
    if (id_ < 0) return true;
    herr_t rc = closer_(id_);
    id_ = H5I_INVALID_HID;
    return rc >= 0;
  }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }
  // Forgets the id without closing it. HDF5 1.10 frees a file whose H5Fclose failed (its
  // final flush hit a full disk) but keeps its id, and closing that id again when the
  // library shuts down at MPI_Finalize crashes (fixed in HDF5 1.14, HDFGroup/hdf5#2291). A
  // file that already failed a write is left to that shutdown, which closes it only once.
  void abandon() { id_ = H5I_INVALID_HID; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

Hid space(hid_t id) { return Hid(id, H5Sclose); }
Hid dset(hid_t id) { return Hid(id, H5Dclose); }
Hid plist(hid_t id) { return Hid(id, H5Pclose); }
Hid dtype(hid_t id) { return Hid(id, H5Tclose); }
Hid attr(hid_t id) { return Hid(id, H5Aclose); }


void bcast_string(std::string& s, MPI_Comm comm) {
  unsigned long long n = s.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
  s.resize(n);
  if (n) MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
}

void bcast_strings(std::vector<std::string>& v, MPI_Comm comm) {
  int n = static_cast<int>(v.size());
  MPI_Bcast(&n, 1, MPI_INT, 0, comm);
  v.resize(n);
  for (auto& s : v) bcast_string(s, comm);
}

// Empty if `path` can grow to `bytes`: the file system has the room (a file being replaced
// counts as free) and the file-size limit (ulimit -f) allows it.
std::string room_error(const std::string& path, unsigned long long need) {
  std::ostringstream os;
  os.precision(3);
  os << "HDF5 dataset '" << path << "' needs " << static_cast<double>(need) / 1e6 << " MB, but ";
  rlimit limit{};
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && need > limit.rlim_cur) {
    os << "the file-size limit (ulimit -f) is " << static_cast<double>(limit.rlim_cur) / 1e6 << " MB";
    return os.str();
  }
  std::error_code ec;
  const fs::path dir = fs::absolute(fs::path(path), ec).parent_path();
  const fs::space_info space = fs::space(dir, ec);
  if (ec) return std::string();  // no answer (odd file systems): let the writes decide
  unsigned long long room = space.available;
  const auto old = fs::file_size(path, ec);
  if (!ec) room += old;
  if (need <= room) return std::string();
  os << dir.string() << " has " << static_cast<double>(room) / 1e6 << " MB free";
  return os.str();
}

// The bytes of an empty HDF5 file (superblock and root group), made in memory by the core
// driver, so that no HDF5 call ever writes to a disk that has no room.
std::vector<char> empty_file_image() {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  PDS_CHECK(H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0, "cannot set up HDF5's core driver" << hdf5_reason());
  Hid f(H5Fcreate("pdestream-empty-image.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose);
  PDS_CHECK(f.valid() && H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0,
            "cannot make an empty HDF5 file in memory" << hdf5_reason());
  const ssize_t n = H5Fget_file_image(f, nullptr, 0);
  PDS_CHECK(n > 0, "cannot make an empty HDF5 file in memory" << hdf5_reason());
  std::vector<char> image(static_cast<std::size_t>(n));
  PDS_CHECK(H5Fget_file_image(f, image.data(), image.size()) == n,
            "cannot make an empty HDF5 file in memory" << hdf5_reason());
  return image;
}

// Creates `path` as an empty HDF5 file whose first `bytes` are allocated on disk. Parallel
// HDF5 1.10 cannot survive a failed metadata write: rank 0 writes the metadata alone, and on
// an error it skips the barrier the other ranks wait in, at the latest when the library
// closes the file at MPI_Finalize. With every block allocated before HDF5 writes anything,
// no later write can meet a full disk. (posix_fallocate writes zeros where the file system
// cannot allocate ahead.)
void create_reserved(const std::string& path, unsigned long long bytes) {
  const std::vector<char> image = empty_file_image();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  PDS_CHECK(fd >= 0, "cannot create HDF5 dataset '" << path << "': " << std::strerror(errno));
  const auto fail = [&](const std::string& what, int err) {
    ::close(fd);
    ::unlink(path.c_str());
    const std::string room = room_error(path, bytes);
    PDS_FAIL((room.empty() ? "cannot " + what + " HDF5 dataset '" + path + "': " + std::strerror(err) : room));
  };
  if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)); err != 0)
    fail("reserve " + std::to_string(bytes) + " bytes for", err);
  for (std::size_t done = 0; done < image.size();) {
    const ssize_t n = ::pwrite(fd, image.data() + done, image.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write", n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    PDS_FAIL("cannot write HDF5 dataset '" << path << "': " << std::strerror(err));
  }
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << "]";
  return os.str();
}

std::string box_text(const Box& b, int dim) {
  std::ostringstream os;
  for (int a = 0; a < dim; ++a) os << (a ? " x " : "") << "[" << b.lo[a] << ", " << b.hi[a] << ")";
  return os.str();
}

Hid vlen_string_type() {
  Hid t = dtype(H5Tcopy(H5T_C_S1));
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

// Variable-length UTF-8 string attribute: scalar when `scalar`, else 1-D of v.size().
void write_string_attr(hid_t obj, const char* name, const std::vector<std::string>& v,
                       bool scalar, const std::string& path) {
  Hid t = vlen_string_type();
  hsize_t n = v.size();
  Hid sp = space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr));
  Hid a = attr(H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT));
  PDS_CHECK(a.valid(), "cannot create attribute '" << name << "' in '" << path << "'"
                                                   << hdf5_reason());
  std::vector<const char*> ptrs;
  for (const auto& s : v) ptrs.push_back(s.c_str());
  const char* empty = "";
  if (ptrs.empty()) ptrs.push_back(empty);
  PDS_CHECK(H5Awrite(a, t, ptrs.data()) >= 0,
            "cannot write attribute '" << name << "' in '" << path << "'" << hdf5_reason());
}

// A string attribute (scalar or 1-D; variable- or fixed-length), or nothing if absent.
std::optional<std::vector<std::string>> read_string_attr(hid_t obj, const char* name,
                                                         const std::string& path) {
  if (H5Aexists(obj, name) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  Hid a = attr(H5Aopen(obj, name, H5P_DEFAULT));
  PDS_CHECK(a.valid(), "cannot open attribute '" << name << "' in '" << path << "'"
                                                 << hdf5_reason());
  Hid ft = dtype(H5Aget_type(a));
  Hid sp = space(H5Aget_space(a));
  PDS_CHECK(ft.valid() && sp.valid(),
            "cannot read attribute '" << name << "' in '" << path << "'" << hdf5_reason());
  PDS_CHECK(H5Tget_class(ft) == H5T_STRING,
            "attribute '" << name << "' in '" << path << "' should hold strings");
  hssize_t np = H5Sget_simple_extent_npoints(sp);
  PDS_CHECK(np >= 0, "cannot read attribute '" << name << "' in '" << path << "'"
                                               << hdf5_reason());
  const std::size_t n = static_cast<std::size_t>(np);
  std::vector<std::string> out;
  if (H5Tis_variable_str(ft) > 0) {
    Hid mt = dtype(H5Tcopy(H5T_C_S1));
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    std::vector<char*> ptrs(std::max<std::size_t>(n, 1), nullptr);
    PDS_CHECK(H5Aread(a, mt, ptrs.data()) >= 0,
              "cannot read attribute '" << name << "' in '" << path << "'" << hdf5_reason());
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(ptrs[i] ? ptrs[i] : "");
    H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, ptrs.data());
  } else {
    const std::size_t len = H5Tget_size(ft);
    PDS_CHECK(len > 0, "attribute '" << name << "' in '" << path << "' has zero-size strings");
    Hid mt = dtype(H5Tcopy(H5T_C_S1));
    H5Tset_size(mt, len);
    H5Tset_strpad(mt, H5T_STR_NULLPAD);
    H5Tset_cset(mt, H5Tget_cset(ft));
    std::vector<char> buf(std::max<std::size_t>(n, 1) * len, '\0');
    PDS_CHECK(H5Aread(a, mt, buf.data()) >= 0,
              "cannot read attribute '" << name << "' in '" << path << "'" << hdf5_reason());
    for (std::size_t i = 0; i < n; ++i) {
      const char* p = buf.data() + i * len;
      std::size_t l = strnlen(p, len);
      while (l > 0 && p[l - 1] == ' ') --l;  // space-padded strings
      out.emplace_back(p, l);
    }
  }
  return out;
}

std::vector<hsize_t> dims_of(hid_t ds, const std::string& what, const std::string& path) {
  Hid sp = space(H5Dget_space(ds));
  PDS_CHECK(sp.valid(), "cannot read the shape of " << what << " in '" << path << "'"
                                                    << hdf5_reason());
  int r = H5Sget_simple_extent_ndims(sp);
  PDS_CHECK(r >= 0, "cannot read the shape of " << what << " in '" << path << "'"
                                                << hdf5_reason());
  std::vector<hsize_t> d(r);
  if (r > 0) H5Sget_simple_extent_dims(sp, d.data(), nullptr);
  return d;
}

bool has_dataset(hid_t file, const char* name) {
  htri_t e = H5Lexists(file, name, H5P_DEFAULT);
  if (e <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  hid_t o = H5Oopen(file, name, H5P_DEFAULT);
  if (o < 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  const bool is_dataset = H5Iget_type(o) == H5I_DATASET;
  H5Oclose(o);
  return is_dataset;
}

// Limits on what a file may claim, checked before anything is allocated from its header: a
// small chunked file can declare extents of 2^40 that HDF5 fills on demand.
constexpr hsize_t kMaxAxis = hsize_t(1) << 24;        // points along an axis, time frames
constexpr hsize_t kMaxParams = hsize_t(1) << 16;      // parameters per sample

std::vector<double> read_1d(hid_t file, const char* name, const std::string& path) {
  Hid ds = dset(H5Dopen2(file, name, H5P_DEFAULT));
  PDS_CHECK(ds.valid(), "cannot open dataset '" << name << "' in '" << path << "'"
                                                << hdf5_reason());
  auto d = dims_of(ds, std::string("'") + name + "'", path);
  PDS_CHECK(d.size() == 1, "dataset '" << name << "' in '" << path << "' has shape "
                                       << shape_text(d) << ", expected a 1-D array");
  PDS_CHECK(d[0] <= kMaxAxis, "dataset '" << name << "' in '" << path << "' has " << d[0]
                                          << " values, expected at most " << kMaxAxis);
  std::vector<double> v(d[0]);
  if (!v.empty())
    PDS_CHECK(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0,
              "cannot read dataset '" << name << "' in '" << path << "'" << hdf5_reason());
  return v;
}

}  // namespace

std::vector<unsigned long long> DatasetLayout::tensor_shape() const {
  std::vector<unsigned long long> s;
  s.push_back(static_cast<unsigned long long>(num_samples));
  s.push_back(static_cast<unsigned long long>(times.size()));
  for (int a = 0; a < grid.dim; ++a) s.push_back(static_cast<unsigned long long>(grid.shape[a]));
  if (channels.size() > 1) s.push_back(channels.size());
  return s;
}

unsigned long long DatasetLayout::tensor_bytes() const {
  unsigned long long n = sizeof(float);
  for (auto d : tensor_shape()) n *= d;
  return n + static_cast<unsigned long long>(num_samples) * param_names.size() * sizeof(double);
}

unsigned long long DatasetLayout::file_bytes() const {
  // Generous for HDF5 1.10's layout: a v1 B-tree entry per chunk (under 100 bytes with its
  // node's share), the float32 coordinates, the attributes (strings with their headers),
  // and 1 MiB for object headers, the heaps and the free-space aggregators' blocks.
  const auto shape = tensor_shape();
  unsigned long long chunks = shape[0] * shape[1];
  unsigned long long frame = sizeof(float);
  for (std::size_t i = 2; i < shape.size(); ++i) frame *= shape[i];
  chunks *= 1 + frame / (1ull << 30);
  unsigned long long strings = config_toml.size() + solver.size();
  for (const auto& c : channels) strings += c.size() + 64;
  for (const auto& p : param_names) strings += p.size() + 64;
  unsigned long long coordinates = times.size();
  for (int a = 0; a < grid.dim; ++a) coordinates += static_cast<unsigned long long>(grid.shape[a]);
  return tensor_bytes() + 128 * chunks + 4 * coordinates + 2 * strings + (1ull << 20);
}

// ---------------------------------------------------------------------------------------
// Writer

struct DatasetWriter::Impl {
  std::string path;
  DatasetLayout layout;
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  Hid file;
  Hid tensor;
  Hid params;
  bool open = false;
  bool reserved = false;  // the file's blocks were allocated ahead (create_reserved)

  // agree_on_error for a failed write: on the way out, the file is abandoned (Hid::abandon)
  // on every rank instead of being closed.
  void agree_on_io_error(const std::string& local_error) {
    try {
      agree_on_error(comm, local_error);
    } catch (...) {
      open = false;
      params.abandon();
      tensor.abandon();
      file.abandon();
      throw;
    }
  }

  // Collective: everything HDF5 holds for the file goes to disk; a failure abandons it.
  void flush() {
    agree_on_io_error(H5Fflush(file, H5F_SCOPE_GLOBAL) < 0
                          ? "cannot write HDF5 dataset '" + path + "'" + hdf5_reason() + " (disk full?)"
                          : std::string());
  }

  int rank_of_tensor() const {
    return 2 + layout.grid.dim + (layout.channels.size() > 1 ? 1 : 0);
  }
  void check_open() const {
    PDS_CHECK(open, "HDF5 dataset '" << path << "' is already closed");
  }

  // Collective write of a whole small dataset: rank 0 provides the values, the others
  // take part with an empty selection.
  void write_whole(hid_t ds, hid_t memtype, const void* buf, const char* what) {
    Hid fs = space(H5Dget_space(ds));
    Hid ms = space(H5Scopy(fs));
    if (rank != 0) {
      H5Sselect_none(fs);
      H5Sselect_none(ms);
    }
    Hid dx = plist(H5Pcreate(H5P_DATASET_XFER));
    H5Pset_dxpl_mpio(dx, H5FD_MPIO_COLLECTIVE);
    static const double dummy = 0.0;
    herr_t rc = H5Dwrite(ds, memtype, ms, fs, dx, buf ? buf : &dummy);
    agree_on_io_error(rc < 0 ? "cannot write '" + std::string(what) + "' to '" + path + "'" +
                             hdf5_reason()
                       : std::string());
  }

  void write_coordinate(const char* name, const std::vector<double>& values) {
    hsize_t n = values.size();
    Hid sp = space(H5Screate_simple(1, &n, nullptr));
    Hid ds = dset(H5Dcreate2(file, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT));
    PDS_CHECK(ds.valid(), "cannot create '" << name << "' in '" << path << "'"
                                            << hdf5_reason());
    std::vector<float> f(values.begin(), values.end());
    write_whole(ds, H5T_NATIVE_FLOAT, f.data(), name);
  }
};

DatasetWriter::DatasetWriter(const std::string& path, const DatasetLayout& layout, MPI_Comm comm,
                             bool reserve)
    : impl_(std::make_unique<Impl>()) {
  silence_hdf5();
  Impl& m = *impl_;
  m.path = path;
  m.layout = layout;
  m.comm = comm;
  MPI_Comm_rank(comm, &m.rank);
  MPI_Comm_size(comm, &m.size);
  DatasetLayout& L = m.layout;

  // Local validation, then a check that every rank describes the same dataset (HDF5
  // metadata calls are collective and must get identical arguments).
  std::string err;
  try {
    L.grid.validate();
    PDS_CHECK(!L.channels.empty(), "HDF5 dataset '" << path << "' needs at least one channel");
    PDS_CHECK(L.num_samples >= 1,
              "HDF5 dataset '" << path << "' needs num_samples >= 1, got " << L.num_samples);
    PDS_CHECK(!L.times.empty(), "HDF5 dataset '" << path << "' needs at least one output time");
  } catch (const Error& e) {
    err = e.message();
  }
  agree_on_error(comm, err);
  long long shape[8] = {L.grid.dim, L.grid.shape[0], L.grid.shape[1], L.grid.shape[2],
                        L.num_samples, static_cast<long long>(L.times.size()),
                        static_cast<long long>(L.channels.size()),
                        static_cast<long long>(L.param_names.size())};
  long long lo[8], hi[8];
  MPI_Allreduce(shape, lo, 8, MPI_LONG_LONG, MPI_MIN, comm);
  MPI_Allreduce(shape, hi, 8, MPI_LONG_LONG, MPI_MAX, comm);
  PDS_CHECK(std::equal(lo, lo + 8, hi),
            "HDF5 dataset '" << path
                             << "': the ranks passed different layouts (grid, samples, times, "
                                "channels or parameters), expected the same layout on every rank");
  // Rank 0's names and values win; they are identical on all ranks from here on.
  bcast_strings(L.channels, comm);
  bcast_strings(L.param_names, comm);
  bcast_string(L.solver, comm);
  bcast_string(L.config_toml, comm);
  MPI_Bcast(L.times.data(), static_cast<int>(L.times.size()), MPI_DOUBLE, 0, comm);
  MPI_Bcast(L.grid.lower.data(), 3, MPI_DOUBLE, 0, comm);
  MPI_Bcast(L.grid.upper.data(), 3, MPI_DOUBLE, 0, comm);

  // Parallel HDF5 allocates the whole tensor when it is created, so the room the file needs
  // is known now: better one line before the first simulation than a full disk at the last.
  m.reserved = reserve;
  std::string room;
  if (m.rank == 0) {
    try {
      if (reserve)
        create_reserved(path, L.file_bytes());
      else
        room = room_error(path, L.file_bytes());
    } catch (const Error& e) {
      room = e.message();
    }
  }
  agree_on_error(comm, room);

  Hid fapl = plist(H5Pcreate(H5P_FILE_ACCESS));
  PDS_CHECK(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) >= 0,
            "cannot set up MPI-IO for '" << path << "'" << hdf5_reason());
  H5Pset_coll_metadata_write(fapl, 1);  // metadata written collectively (scales better)
  m.file = Hid(m.reserved ? H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl)
                          : H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl),
               H5Fclose);
  agree_on_error(comm, m.file.valid() ? std::string()
                             : "cannot create HDF5 dataset '" + path + "'" + hdf5_reason());

  // tensor: float32, one chunk per frame (split along x if a frame exceeds 1 GiB).
  const auto shape_ull = L.tensor_shape();
  std::vector<hsize_t> dims(shape_ull.begin(), shape_ull.end());
  std::vector<hsize_t> chunk = dims;
  chunk[0] = chunk[1] = 1;
  hsize_t frame_bytes = sizeof(float);
  for (std::size_t i = 2; i < chunk.size(); ++i) frame_bytes *= chunk[i];
  const hsize_t limit = hsize_t(1) << 30;
  if (frame_bytes > limit) {
    const hsize_t slab = frame_bytes / chunk[2];
    chunk[2] = std::max<hsize_t>(1, limit / slab);
  }
  Hid sp = space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  Hid dcpl = plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  m.tensor = dset(H5Dcreate2(m.file, "tensor", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl,
                             H5P_DEFAULT));
  m.agree_on_io_error(m.tensor.valid() ? std::string()
                               : "cannot create 'tensor' in '" + path + "'" + hdf5_reason());

  for (int a = 0; a < L.grid.dim; ++a) m.write_coordinate(kAxisNames[a], L.grid.coordinates(a));
  m.write_coordinate("t-coordinate", L.times);

  if (!L.param_names.empty()) {
    hsize_t pd[2] = {static_cast<hsize_t>(L.num_samples), L.param_names.size()};
    Hid psp = space(H5Screate_simple(2, pd, nullptr));
    m.params = dset(H5Dcreate2(m.file, "params", H5T_IEEE_F64LE, psp, H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT));
    m.agree_on_io_error(m.params.valid() ? std::string()
                                 : "cannot create 'params' in '" + path + "'" + hdf5_reason());
    write_string_attr(m.params, "param_names", L.param_names, false, path);
  }

  write_string_attr(m.file, "channels", L.channels, false, path);
  write_string_attr(m.file, "solver", {L.solver}, true, path);
  write_string_attr(m.file, "pdestream_version", {kVersion}, true, path);
  write_string_attr(m.file, "config", {L.config_toml}, true, path);
  // All metadata on disk now (the chunk index included: every chunk is allocated already),
  // so closing after a full disk only rewrites blocks that have their room, and succeeds.
  m.flush();
  m.open = true;
}

DatasetWriter::~DatasetWriter() {
  try {
    close();
  } catch (...) {
    // Destructors must not throw; an explicit close() reports errors.
  }
}

const DatasetLayout& DatasetWriter::layout() const { return impl_->layout; }

void DatasetWriter::write_frame(int sample, int time_index, const Field* block) {
  Impl& m = *impl_;
  m.check_open();
  const DatasetLayout& L = m.layout;
  const int C = static_cast<int>(L.channels.size());
  const Box whole = Box::whole(L.grid);

  std::ostringstream err;
  if (block && block->box().empty()) block = nullptr;
  if (block) {
    if (sample < 0 || sample >= L.num_samples)
      err << "HDF5 dataset '" << m.path << "': sample index " << sample
          << " out of range, expected 0 <= sample < " << L.num_samples;
    else if (time_index < 0 || time_index >= L.num_times())
      err << "HDF5 dataset '" << m.path << "': time index " << time_index
          << " out of range, expected 0 <= t < " << L.num_times();
    else if (block->channels() != L.channels)
      err << "HDF5 dataset '" << m.path << "': block has " << block->num_channels()
          << " channels that differ from the dataset's " << C << " channels";
    else if (!whole.contains(block->box()))
      err << "HDF5 dataset '" << m.path << "': block " << box_text(block->box(), L.grid.dim)
          << " lies outside the grid " << box_text(whole, L.grid.dim);
    else if (block->size() != block->box().num_points() * C)
      err << "HDF5 dataset '" << m.path << "': block holds " << block->size()
          << " values, expected " << block->box().num_points() * C;
  }
  agree_on_error(m.comm, err.str());

  Hid fs = space(H5Dget_space(m.tensor));
  Hid ms;
  std::vector<float> buf;
  if (block) {
    const int R = m.rank_of_tensor();
    std::vector<hsize_t> start(R, 0), count(R, 1);
    start[0] = sample;
    start[1] = time_index;
    for (int a = 0; a < L.grid.dim; ++a) {
      start[2 + a] = block->box().lo[a];
      count[2 + a] = block->box().extent(a);
    }
    if (C > 1) count[R - 1] = C;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    ms = space(H5Screate_simple(R, count.data(), nullptr));
    buf.assign(block->data().begin(), block->data().end());
  } else {
    hsize_t one = 1;
    ms = space(H5Screate_simple(1, &one, nullptr));
    H5Sselect_none(ms);
    H5Sselect_none(fs);
    buf.assign(1, 0.0f);
  }
  Hid dx = plist(H5Pcreate(H5P_DATASET_XFER));
  H5Pset_dxpl_mpio(dx, H5FD_MPIO_COLLECTIVE);
  herr_t rc = H5Dwrite(m.tensor, H5T_NATIVE_FLOAT, ms, fs, dx, buf.data());
  std::string werr;
  if (rc < 0) {
    std::ostringstream os;
    os << "cannot write sample " << sample << ", time index " << time_index << " to '" << m.path
       << "'" << hdf5_reason();
    werr = os.str();
  }
  m.agree_on_io_error(werr);
}

void DatasetWriter::write_params(const std::vector<std::vector<double>>& params) {
  Impl& m = *impl_;
  m.check_open();
  const DatasetLayout& L = m.layout;
  const std::size_t P = L.param_names.size();
  std::ostringstream err;
  std::vector<double> flat;
  if (m.rank == 0) {
    if (P == 0 && !params.empty() && !params.front().empty())
      err << "HDF5 dataset '" << m.path
          << "': parameters given but the layout has no param_names";
    else if (P > 0 && params.size() != static_cast<std::size_t>(L.num_samples))
      err << "HDF5 dataset '" << m.path << "': got parameters for " << params.size()
          << " samples, expected " << L.num_samples << " rows";
    else
      for (std::size_t s = 0; s < params.size() && P > 0; ++s) {
        if (params[s].size() != P) {
          err << "HDF5 dataset '" << m.path << "': parameter row " << s << " has "
              << params[s].size() << " values, expected " << P << " (param_names)";
          break;
        }
        flat.insert(flat.end(), params[s].begin(), params[s].end());
      }
  }
  agree_on_error(m.comm, err.str());
  if (P == 0) return;
  m.write_whole(m.params, H5T_NATIVE_DOUBLE, flat.empty() ? nullptr : flat.data(), "params");
}

void DatasetWriter::close() {
  Impl& m = *impl_;
  if (!m.open) return;
  // The flush does every write that closing would do, so a full disk fails here, where the
  // file can still be abandoned safely, and not inside H5Fclose.
  m.flush();
  m.open = false;
  haddr_t eoa = 0;
  if (m.reserved && H5Fget_eoa(m.file, &eoa) < 0) eoa = 0;
  bool ok = m.params.close();
  ok = m.tensor.close() && ok;
  ok = m.file.close() && ok;
  agree_on_error(m.comm, ok ? std::string() : "cannot close HDF5 dataset '" + m.path + "'" + hdf5_reason());
  // The reservation's unused tail goes back to the file system. Shrinking needs no room, and
  // a tail left behind would only cost space, so a failure here is not worth an error.
  if (m.rank == 0 && eoa > 0) {
    const int rc = ::truncate(m.path.c_str(), static_cast<off_t>(eoa));
    (void)rc;
  }
}

// ---------------------------------------------------------------------------------------
// Reader

struct DatasetReader::Impl {
  std::string path;
  DatasetLayout layout;
  Hid file;
  Hid tensor;
  Hid params;
  std::vector<hsize_t> dims;  // tensor shape
  int C = 1;
  std::size_t P = 0;

  void check_indices(int sample, int time_index) const {
    PDS_CHECK(sample >= 0 && sample < layout.num_samples,
              "HDF5 dataset '" << path << "': sample index " << sample
                               << " out of range, expected 0 <= sample < "
                               << layout.num_samples);
    PDS_CHECK(time_index >= 0 && time_index < layout.num_times(),
              "HDF5 dataset '" << path << "': time index " << time_index
                               << " out of range, expected 0 <= t < " << layout.num_times());
  }

  // Reads tensor[start : start+count] into `out` converted to `memtype`.
  void read(const std::vector<hsize_t>& start, const std::vector<hsize_t>& count, hid_t memtype,
            void* out, const char* what) const {
    Hid fs = space(H5Dget_space(tensor));
    PDS_CHECK(fs.valid() && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start.data(), nullptr,
                                                count.data(), nullptr) >= 0,
              "cannot select " << what << " in '" << path << "'" << hdf5_reason());
    Hid ms = space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
    PDS_CHECK(H5Dread(tensor, memtype, ms, fs, H5P_DEFAULT, out) >= 0,
              "cannot read " << what << " from '" << path << "'" << hdf5_reason()
                             << "; the file may be truncated or corrupt");
  }
};

DatasetReader::DatasetReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  silence_hdf5();
  Impl& m = *impl_;
  m.path = path;
  const char* expected = "expected a PDEBench-style HDF5 dataset with 'tensor' [N, Nt, Nx(, Ny(, Nz))(, C)]";

  std::error_code ec;
  PDS_CHECK(fs::exists(path, ec), "cannot open HDF5 dataset '" << path << "': file not found");
  PDS_CHECK(fs::is_regular_file(path, ec),
            "cannot open HDF5 dataset '" << path << "': not a regular file; " << expected);
  htri_t is = H5Fis_hdf5(path.c_str());
  H5Eclear2(H5E_DEFAULT);
  PDS_CHECK(is > 0, "'" << path << "' is not an HDF5 file; " << expected);

  // Default (serial) driver; file locking is used where the file system supports it and
  // ignored where it does not (NFS, some Lustre mounts), instead of failing to open.
  Hid fapl = plist(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_file_locking(fapl, 1, 1);
  m.file = Hid(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose);
  PDS_CHECK(m.file.valid(), "cannot open HDF5 file '" << path << "'" << hdf5_reason()
                                                      << "; the file may be truncated or corrupt");

  PDS_CHECK(has_dataset(m.file, "tensor"),
            "HDF5 file '" << path << "' has no dataset 'tensor'; " << expected);
  m.tensor = dset(H5Dopen2(m.file, "tensor", H5P_DEFAULT));
  PDS_CHECK(m.tensor.valid(), "cannot open 'tensor' in '" << path << "'" << hdf5_reason()
                                                          << "; the file may be corrupt");
  {
    Hid t = dtype(H5Dget_type(m.tensor));
    H5T_class_t cls = t.valid() ? H5Tget_class(t) : H5T_NO_CLASS;
    PDS_CHECK(cls == H5T_FLOAT || cls == H5T_INTEGER,
              "'tensor' in '" << path << "' is not numeric; expected float32 values");
  }
  m.dims = dims_of(m.tensor, "'tensor'", path);
  for (std::size_t a = 0; a < m.dims.size(); ++a)
    PDS_CHECK(m.dims[a] <= (a == 0 ? hsize_t(std::numeric_limits<int>::max()) : kMaxAxis),
              "'tensor' in '" << path << "' has shape " << shape_text(m.dims) << "; expected at most "
                              << (a == 0 ? hsize_t(std::numeric_limits<int>::max()) : kMaxAxis)
                              << " along axis " << a);

  // Spatial dimension = number of consecutive coordinate datasets x, y, z.
  DatasetLayout& L = m.layout;
  int dim = 0;
  while (dim < 3 && has_dataset(m.file, kAxisNames[dim])) ++dim;
  PDS_CHECK(dim >= 1, "HDF5 file '" << path << "' has 'tensor' but no 'x-coordinate'; "
                                    << expected << " and coordinates x-coordinate [Nx], ...");
  const int R = static_cast<int>(m.dims.size());
  PDS_CHECK(R == dim + 2 || R == dim + 3,
            "'tensor' in '" << path << "' has rank " << R << " (shape " << shape_text(m.dims)
                            << "), inconsistent with the " << dim
                            << " coordinate dataset(s): expected rank " << dim + 2
                            << " [N, Nt, spatial...] or " << dim + 3
                            << " [N, Nt, spatial..., C]");
  L.grid = Grid();
  L.grid.dim = dim;
  for (int a = 0; a < dim; ++a) {
    auto c = read_1d(m.file, kAxisNames[a], path);
    PDS_CHECK(c.size() == m.dims[2 + a],
              "'" << kAxisNames[a] << "' in '" << path << "' has " << c.size()
                  << " points but 'tensor' " << shape_text(m.dims) << " has " << m.dims[2 + a]
                  << " along that axis; expected equal lengths");
    PDS_CHECK(c.size() >= 2, "'" << kAxisNames[a] << "' in '" << path
                                 << "' has fewer than 2 points; expected at least 2");
    L.grid.shape[a] = static_cast<int>(c.size());
    L.grid.lower[a] = c.front();
    L.grid.upper[a] = c.back();
  }
  try {
    L.grid.validate();
  } catch (const Error& e) {
    PDS_FAIL("invalid coordinates in '" << path << "': " << e.message());
  }
  m.C = R == dim + 3 ? static_cast<int>(m.dims[R - 1]) : 1;
  PDS_CHECK(m.C >= 1, "'tensor' in '" << path << "' has an empty channel axis");
  L.num_samples = static_cast<int>(m.dims[0]);
  const std::size_t Nt = m.dims[1];

  // Times: t-coordinate of length Nt, or Nt + 1 as PDEBench writes it (first Nt kept).
  if (has_dataset(m.file, "t-coordinate")) {
    auto t = read_1d(m.file, "t-coordinate", path);
    PDS_CHECK(t.size() == Nt || t.size() == Nt + 1,
              "'t-coordinate' in '" << path << "' has " << t.size() << " values, expected Nt = "
                                    << Nt << " (or Nt + 1) to match 'tensor' "
                                    << shape_text(m.dims));
    t.resize(Nt);
    L.times = std::move(t);
  } else {
    L.times.resize(Nt);
    for (std::size_t i = 0; i < Nt; ++i) L.times[i] = static_cast<double>(i);
  }

  auto channels = read_string_attr(m.file, "channels", path);
  if (channels) {
    PDS_CHECK(channels->size() == static_cast<std::size_t>(m.C),
              "attribute 'channels' in '" << path << "' lists " << channels->size()
                                          << " names, expected " << m.C
                                          << " to match the channel axis of 'tensor'");
    L.channels = *channels;
  } else if (m.C == 1) {
    L.channels = {"u"};
  } else {
    for (int c = 0; c < m.C; ++c) L.channels.push_back("c" + std::to_string(c));
  }
  if (auto s = read_string_attr(m.file, "solver", path); s && !s->empty()) L.solver = s->front();
  if (auto s = read_string_attr(m.file, "config", path); s && !s->empty())
    L.config_toml = s->front();

  if (has_dataset(m.file, "params")) {
    m.params = dset(H5Dopen2(m.file, "params", H5P_DEFAULT));
    PDS_CHECK(m.params.valid(), "cannot open 'params' in '" << path << "'" << hdf5_reason());
    auto pd = dims_of(m.params, "'params'", path);
    PDS_CHECK((pd.size() == 2 || pd.size() == 1) && pd[0] == m.dims[0],
              "'params' in '" << path << "' has shape " << shape_text(pd) << ", expected [N, P] with N = "
                              << m.dims[0]);
    m.P = pd.size() == 2 ? pd[1] : 1;
    PDS_CHECK(m.P <= kMaxParams, "'params' in '" << path << "' has " << m.P << " parameters per sample, expected at most "
                                                 << kMaxParams);
    auto names = read_string_attr(m.params, "param_names", path);
    if (names) {
      PDS_CHECK(names->size() == m.P, "attribute 'param_names' in '"
                                          << path << "' lists " << names->size()
                                          << " names, expected P = " << m.P);
      L.param_names = *names;
    } else {
      for (std::size_t p = 0; p < m.P; ++p) L.param_names.push_back("p" + std::to_string(p));
    }
  }
}

DatasetReader::~DatasetReader() = default;

const DatasetLayout& DatasetReader::layout() const { return impl_->layout; }
const std::string& DatasetReader::path() const { return impl_->path; }

std::vector<float> DatasetReader::read_frame(int sample, int time_index) const {
  const Impl& m = *impl_;
  m.check_indices(sample, time_index);
  std::vector<hsize_t> start(m.dims.size(), 0), count = m.dims;
  start[0] = sample;
  start[1] = time_index;
  count[0] = count[1] = 1;
  std::size_t n = 1;
  for (std::size_t i = 2; i < count.size(); ++i) n *= count[i];
  std::vector<float> out(n);
  m.read(start, count, H5T_NATIVE_FLOAT, out.data(), "a frame");
  return out;
}

std::vector<float> DatasetReader::read_sample(int sample) const {
  const Impl& m = *impl_;
  m.check_indices(sample, 0);
  std::vector<hsize_t> start(m.dims.size(), 0), count = m.dims;
  start[0] = sample;
  count[0] = 1;
  std::size_t n = 1;
  for (std::size_t i = 1; i < count.size(); ++i) n *= count[i];
  std::vector<float> out(n);
  m.read(start, count, H5T_NATIVE_FLOAT, out.data(), "a sample");
  return out;
}

Field DatasetReader::read_block(int sample, int time_index, const Box& box) const {
  const Impl& m = *impl_;
  m.check_indices(sample, time_index);
  const Grid& g = m.layout.grid;
  const Box whole = Box::whole(g);
  PDS_CHECK(!box.empty() && whole.contains(box),
            "HDF5 dataset '" << m.path << "': block " << box_text(box, 3)
                             << " is empty or outside the grid; expected a box inside "
                             << box_text(whole, 3));
  std::vector<hsize_t> start(m.dims.size(), 0), count = m.dims;
  start[0] = sample;
  start[1] = time_index;
  count[0] = count[1] = 1;
  for (int a = 0; a < g.dim; ++a) {
    start[2 + a] = box.lo[a];
    count[2 + a] = box.extent(a);
  }
  Field f(m.layout.channels, box);
  m.read(start, count, H5T_NATIVE_DOUBLE, f.data().data(), "a block");
  return f;
}

std::vector<double> DatasetReader::params(int sample) const {
  const Impl& m = *impl_;
  PDS_CHECK(sample >= 0 && sample < m.layout.num_samples,
            "HDF5 dataset '" << m.path << "': sample index " << sample
                             << " out of range, expected 0 <= sample < "
                             << m.layout.num_samples);
  if (!m.params.valid() || m.P == 0) return {};
  Hid fs = space(H5Dget_space(m.params));
  int r = H5Sget_simple_extent_ndims(fs);
  hsize_t start[2] = {static_cast<hsize_t>(sample), 0};
  hsize_t count[2] = {1, m.P};
  std::vector<double> out(m.P);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, count, nullptr);
  Hid ms = space(H5Screate_simple(r, count, nullptr));
  PDS_CHECK(H5Dread(m.params, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, out.data()) >= 0,
            "cannot read 'params' of sample " << sample << " from '" << m.path << "'"
                                              << hdf5_reason());
  return out;
}

}  // namespace pdestream::io
