#include "fuzz/targets.hpp"

#include <hdf5.h>
#include <petscvec.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>

#include "apps/cli.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/parameter_space.hpp"
#include "core/runtime.hpp"
#include "io/hdf5_dataset.hpp"
#include "io/safetensors.hpp"
#include "linear_systems/matrix_io.hpp"
#include "online_training/checkpoint_files.hpp"
#include "online_training/online_options.hpp"
#include "online_training/protocol.hpp"
#include "solvers/acoustic.hpp"
#include "solvers/burgers1d.hpp"
#include "solvers/fv1d.hpp"
#include "solvers/heat2d.hpp"
#include "solvers/ks1d.hpp"
#include "solvers/ns2d.hpp"
#include "surrogates/registry.hpp"
#include "surrogates/tasks.hpp"
#include "training/dataset_source.hpp"
#include "training/offline_job.hpp"
#include "training/trainer.hpp"

namespace pdestream::fuzz {

namespace fs = std::filesystem;

namespace {

// A reader broke a promise (a result inconsistent with what it validated, a message that is
// not one line): a bug, like a crash.
struct Violation : std::logic_error {
  using std::logic_error::logic_error;
};

void check(bool ok, const std::string& what) {
  if (!ok) throw Violation("fuzz: broken invariant: " + what);
}

// Errors are collected, checked to be one non-empty line, and the target goes on with its
// next reader call.
struct Messages {
  std::vector<std::string> list;
  template <class F>
  void attempt(F&& f) {
    try {
      f();
    } catch (const Error& e) {
      const auto& m = e.message();
      check(!m.empty() && m.find('\n') == std::string::npos, "an error message must be one line, got: " + m);
      list.push_back(m);
    }
  }
};

// Files for the readers that take paths: tmpfs when there is one, one folder per process.
const std::string& scratch() {
  static const std::string dir = [] {
    const std::string base = fs::is_directory("/dev/shm") ? "/dev/shm" : fs::temp_directory_path().string();
    auto d = base + "/pdestream-fuzz-" + std::to_string(getpid());
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string write_file(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const auto path = scratch() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Reads the input as a stream of small decisions; past the end every read gives 0.
struct Bytes {
  const std::uint8_t* p;
  std::size_t n;
  std::size_t i = 0;
  bool done() const { return i >= n; }
  std::uint8_t u8() { return i < n ? p[i++] : 0; }
  std::uint32_t u32() { return u8() | (u8() << 8) | (u8() << 16) | (static_cast<std::uint32_t>(u8()) << 24); }
  double number() {
    // Mostly ordinary values, sometimes the ones readers forget.
    switch (u8() % 8) {
      case 0: return std::numeric_limits<double>::quiet_NaN();
      case 1: return std::numeric_limits<double>::infinity();
      case 2: return -1.0 * u8();
      case 3: return 1e300;
      default: return static_cast<double>(u32()) / 1000.0;
    }
  }
};

// ---------------------------------------------------------------- config

// Models are built only when every integer in [model] is small: the fuzzer's wide models
// test the allocator, not our checks.
bool small_model(const Config& config, const std::string& section) {
  SectionReader s(config, section);
  for (const auto& key : s.keys()) {
    if (s.is_table(key)) {
      if (!small_model(config, section + "." + key)) return false;
      continue;
    }
    try {
      if (SectionReader(config, section).get_int(key) > 16) return false;
    } catch (const Error&) {
    }
    try {
      for (double v : SectionReader(config, section).get_doubles(key))
        if (v > 16) return false;
    } catch (const Error&) {
    }
  }
  return true;
}

void read_solver_section(const Config& config) {
  SectionReader s(config, "solver");
  const auto name = s.get_string("name");
  s.accept("name");
  using namespace solvers;
  if (name == "heat2d") Heat2dOptions::from_section(s);
  else if (name == "burgers1d") Burgers1dOptions::from_section(s);
  else if (name == "ks1d") Ks1dOptions::from_section(s);
  else if (name == "ns2d") Ns2dOptions::from_section(s);
  else if (name == "acoustic2d") AcousticOptions::from_section(2, s);
  else if (name == "acoustic3d") AcousticOptions::from_section(3, s);
  else if (name == "advection1d" || name == "burgers1d_fv" || name == "diffreact1d") Fv1dOptions::from_section(name, s);
  else throw Error("unknown solver '" + name + "'");
  s.finish();
}

std::vector<std::string> fuzz_config(const std::uint8_t* data, std::size_t size) {
  Messages out;
  // The TOML text, then after a NUL byte one --set override per line.
  const std::string all(reinterpret_cast<const char*>(data), size);
  const auto nul = all.find('\0');
  const std::string text = all.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    std::string rest = all.substr(nul + 1), line;
    for (char c : rest) {
      if (c == '\n') overrides.push_back(line), line.clear();
      else line += c;
    }
    if (!line.empty()) overrides.push_back(line);
  }
  Config config;
  bool parsed = false;
  out.attempt([&] {
    config = Config::parse(text, "fuzz.toml");
    parsed = true;
  });
  if (!parsed) return out.list;
  for (const auto& o : overrides) out.attempt([&] { config.apply_override(o); });
  // The merged config a run writes must read back as the same config.
  const auto merged = config.to_toml();
  try {
    check(Config::parse(merged, "config.toml").to_toml() == merged, "the merged config does not round-trip:\n" + merged);
  } catch (const Error& e) {
    check(false, "the merged config does not parse back (" + e.message() + "):\n" + merged);
  }
  // Every section through the readers the commands use.
  if (config.has_section("solver")) out.attempt([&] { read_solver_section(config); });
  out.attempt([&] { apps::read_sampling_options(config); });
  out.attempt([&] { apps::read_output_options(config, "fuzz"); });
  out.attempt([&] {
    SectionReader s(config, "data");
    training::DataOptions::from_section(s, false);
    s.finish();
  });
  out.attempt([&] {
    SectionReader s(config, "training");
    training::TrainerOptions::from_section(s);
    s.finish();
  });
  out.attempt([&] {
    SectionReader s(config, "online");
    online_training::OnlineOptions::from_section(s);
    s.finish();
  });
  if (config.has_section("model")) {
    out.attempt([&] {
      SectionReader m(config, "model");
      const auto name = m.get_string("name", std::nullopt, surrogates::model_names());
      SectionReader ts(config, "task");
      auto task = surrogates::make_task(ts, surrogates::model_layout(name));
      ts.finish();
      // A small dataset for the task and the model: the condition's parameters, 8 times, 16
      // points on one axis.
      surrogates::TrajectoryShape shape;
      std::map<std::string, std::pair<double, double>> ranges;
      for (const auto& p : task->condition().parameters()) {
        if (ranges.emplace(p.name, std::make_pair(0.0, 1.0)).second) shape.param_names.push_back(p.name);
      }
      shape.num_params = static_cast<std::int64_t>(shape.param_names.size());
      shape.num_times = 8;
      shape.channels = 1;
      const int dim = 1;
      shape.spatial.assign(static_cast<std::size_t>(dim), 16);
      for (int d = 0; d < dim; ++d) {
        std::vector<double> c(16);
        for (int i = 0; i < 16; ++i) c[static_cast<std::size_t>(i)] = i / 15.0;
        shape.coordinates.push_back(c);
      }
      for (int t = 0; t < 8; ++t) shape.times.push_back(0.1 * t);
      task->bind(shape, ranges, "fuzz.h5");
      if (small_model(config, "model")) {
        torch::NoGradGuard no_grad;
        surrogates::make_model(m, task->model_shape(shape));
      }
    });
  }
  return out.list;
}

// ---------------------------------------------------------------- files

std::vector<std::string> fuzz_safetensors(const std::uint8_t* data, std::size_t size) {
  Messages out;
  const auto path = write_file("model.safetensors", data, size);
  out.attempt([&] {
    const auto content = io::read_safetensors(path);
    for (const auto& t : content.tensors) {
      std::int64_t n = 1;
      for (auto d : t.shape) check(d >= 0, "negative dimension in " + t.name), n *= d;
      check(static_cast<std::size_t>(n) * io::dtype_size(t.dtype) == t.data.size(),
            "tensor " + t.name + " holds a byte count that disagrees with its shape");
    }
  });
  return out.list;
}

std::vector<std::string> fuzz_matrix(const std::string& name, const std::uint8_t* data, std::size_t size) {
  Messages out;
  const auto path = write_file(name, data, size);
  out.attempt([&] {
    auto loaded = linear_systems::load_matrix(path, PETSC_COMM_SELF);
    PetscInt m = 0, n = 0;
    PDS_PETSC(MatGetSize(loaded.A.get(), &m, &n));
    check(m == n && m > 0, "load_matrix returned a matrix that is not square and non-empty");
  });
  out.attempt([&] {
    Vec v = nullptr;
    PDS_PETSC(VecCreateSeq(PETSC_COMM_SELF, 4, &v));
    std::unique_ptr<_p_Vec, std::function<void(Vec)>> guard(v, [](Vec x) { VecDestroy(&x); });
    linear_systems::load_vector(path, v);
  });
  return out.list;
}

std::vector<std::string> fuzz_npy(const std::uint8_t* data, std::size_t size) {
  Messages out;
  const auto path = write_file("mask.npy", data, size);
  out.attempt([&] {
    const auto mask = read_npy_mask(path);
    std::size_t n = 1;
    for (int d : mask.shape) check(d >= 2, "a mask axis shorter than 2"), n *= static_cast<std::size_t>(d);
    check(mask.values.size() == n, "the mask's values disagree with its shape");
  });
  return out.list;
}

// ---------------------------------------------------------------- messages

std::vector<std::string> fuzz_protocol(const std::uint8_t* data, std::size_t size) {
  namespace protocol = online_training::protocol;
  Messages out;
  if (size == 0) return out.list;
  const std::vector<char> body(reinterpret_cast<const char*>(data) + 1, reinterpret_cast<const char*>(data) + size);
  switch (data[0] % 4) {
    case 0:
      out.attempt([&] {
        const auto msg = protocol::unpack_data(body);
        const auto& h = msg.header;
        const auto box = msg.box();
        check(!box.empty(), "unpack_data accepted an empty box");
        check(static_cast<std::int64_t>(box.num_points()) * h.channels == h.count,
              "unpack_data accepted a count that disagrees with the box and channels");
        const char* begin = body.data();
        const char* end = body.data() + body.size();
        const auto* p = reinterpret_cast<const char*>(msg.payload);
        check(h.count == 0 || (p >= begin && p + h.count * sizeof(double) <= end),
              "unpack_data's payload points outside the message");
        double sum = 0;
        for (std::int64_t i = 0; i < h.count; ++i) sum += msg.payload[i];
        (void)sum;
        check(static_cast<std::int64_t>(msg.params.size()) == h.num_params, "params disagree with num_params");
      });
      break;
    case 1:
      out.attempt([&] { protocol::EndReport::decode(body); });
      break;
    case 2:
      out.attempt([&] { protocol::Result::decode(body); });
      break;
    default: {
      std::vector<double> words(body.size() / sizeof(double));
      if (!words.empty()) std::memcpy(words.data(), body.data(), words.size() * sizeof(double));
      out.attempt([&] { protocol::WorkItem::decode(words); });
    }
  }
  return out.list;
}

// ---------------------------------------------------------------- resume

std::vector<std::string> fuzz_resume_state(const std::uint8_t* data, std::size_t size) {
  Messages out;
  const auto path = write_file("online_state_120.json", data, size);
  out.attempt([&] { online_training::read_online_state(path, 120); });
  return out.list;
}

// Structure-aware: the input decides which tensors a buffer file holds and their shapes and
// dtypes (written through torch's own archive), or, with the first byte's low bit set, is
// the file's raw bytes.
std::vector<std::string> fuzz_resume_buffer(const std::uint8_t* data, std::size_t size) {
  Messages out;
  const auto path = scratch() + "/buffer_0_120.pt";
  Bytes b{data, size};
  const auto mode = b.u8();
  if (mode & 1) {
    write_file("buffer_0_120.pt", data + 1, size - std::min<std::size_t>(size, 1));
  } else {
    torch::serialize::OutputArchive a;
    auto tensor = [&]() {
      const int rank = b.u8() % 5;
      std::vector<std::int64_t> shape;
      for (int r = 0; r < rank; ++r) shape.push_back(b.u8() % 5);
      const auto kind = b.u8() % 4;
      const auto dtype = kind == 0 ? torch::kFloat32 : kind == 1 ? torch::kFloat64 : kind == 2 ? torch::kInt64 : torch::kUInt8;
      auto t = torch::zeros(shape, torch::TensorOptions().dtype(dtype));
      if (t.numel() > 0 && dtype == torch::kInt64) {
        auto flat = t.view({-1});
        for (std::int64_t i = 0; i < flat.numel(); ++i) flat[i] = static_cast<std::int64_t>(b.u8()) - 8;
      }
      return t;
    };
    const auto present = b.u8();
    const std::int64_t count = static_cast<std::int64_t>(b.u8() % 6) - 1;
    if (present & 1) a.write("count", (present & 32) ? tensor() : torch::tensor(count));
    if (present & 2) {
      if (present & 64) {
        a.write("meta", tensor());
      } else {
        std::vector<std::int64_t> meta(static_cast<std::size_t>(b.u8() % 16));
        for (auto& m : meta) m = static_cast<std::int64_t>(b.u8()) - 4;
        a.write("meta", torch::tensor(meta, torch::kInt64));
      }
    }
    if (present & 4) a.write("input", tensor());
    if (present & 8) a.write("target", tensor());
    if (present & 16) a.write("cond", tensor());
    a.save_to(path);
  }
  out.attempt([&] {
    for (const auto& s : online_training::load_samples(path)) {
      check(s.input.defined() && s.target.defined(), "a restored sample without input or target");
      check(s.index >= 0 && s.seen >= 0, "a restored sample with a negative index or seen count");
    }
  });
  return out.list;
}

// ---------------------------------------------------------------- HDF5

// Structure-aware: the first byte picks one of the valid files that fuzz/make_corpus.py
// writes with h5py (fuzz/hdf5/); the rest is a list of edits made through the HDF5 API:
// datasets replaced with other shapes, dtypes and values, removed, or turned into groups,
// and attributes rewritten with other types and counts.
const std::vector<std::string>& hdf5_bases() {
  static const std::vector<std::string> bases = [] {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(std::string(PDESTREAM_FUZZ_DIR) + "/hdf5"))
      if (e.path().extension() == ".h5") v.push_back(e.path().string());
    std::sort(v.begin(), v.end());
    if (v.empty()) throw std::runtime_error("fuzz: no HDF5 bases in " PDESTREAM_FUZZ_DIR "/hdf5");
    return v;
  }();
  return bases;
}

const char* const kDatasets[] = {"tensor", "x-coordinate", "y-coordinate", "z-coordinate", "t-coordinate", "params"};
const char* const kRootAttributes[] = {"channels", "solver", "config", "pdestream_version"};

void remove_link(hid_t file, const char* name) {
  if (H5Lexists(file, name, H5P_DEFAULT) > 0) H5Ldelete(file, name, H5P_DEFAULT);
}

hid_t pick_type(Bytes& b) {
  switch (b.u8() % 6) {
    case 0: return H5Tcopy(H5T_NATIVE_FLOAT);
    case 1: return H5Tcopy(H5T_NATIVE_DOUBLE);
    case 2: return H5Tcopy(H5T_NATIVE_INT);
    case 3: return H5Tcopy(H5T_NATIVE_UCHAR);
    case 4: return H5Tcopy(H5T_NATIVE_INT64);
    default: {
      hid_t s = H5Tcopy(H5T_C_S1);
      H5Tset_size(s, 4);
      return s;
    }
  }
}

// A dataset of the given shape; large shapes are chunked and left unwritten (HDF5 returns
// the fill value), so a small file can claim billions of entries.
void make_dataset(hid_t file, const char* name, Bytes& b, bool allow_huge) {
  remove_link(file, name);
  const int rank = b.u8() % 7;  // 0: scalar
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  hsize_t total = 1;
  bool huge = false;
  for (auto& d : dims) {
    const auto v = b.u8();
    if (allow_huge && (v & 0x80)) {
      d = hsize_t(1) << (20 + v % 22);
      huge = true;
    } else {
      d = v % 6;
    }
    total *= d;
  }
  hid_t type = pick_type(b);
  hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims.data(), nullptr);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (huge && rank > 0) {
    std::vector<hsize_t> chunk(dims.size(), 1);
    H5Pset_chunk(dcpl, rank, chunk.data());
  }
  hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds >= 0 && !huge && total <= 4096 && H5Tget_class(type) != H5T_STRING) {
    std::vector<double> values(total);
    double prev = 0;
    const auto pattern = b.u8() % 4;
    for (auto& x : values) {
      x = pattern == 0 ? prev + 1 : pattern == 1 ? prev - 1 : pattern == 2 ? prev : b.number();
      prev = x;
    }
    if (!values.empty()) H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  }
  if (ds >= 0) H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Tclose(type);
}

void make_attribute(hid_t obj, const char* name, Bytes& b) {
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  const auto kind = b.u8() % 5;
  if (kind == 0) return;  // removed
  const hsize_t n = b.u8() % 5;
  hid_t space = H5Screate_simple(1, &n, nullptr);
  if (kind == 1 || kind == 2) {
    hid_t type = H5Tcopy(H5T_C_S1);
    std::vector<std::string> words;
    for (hsize_t i = 0; i < n; ++i) words.push_back(i % 2 ? std::string("u") : std::string(b.u8() % 4, 'v'));
    if (kind == 1) {
      H5Tset_size(type, H5T_VARIABLE);
      std::vector<const char*> ptrs;
      for (const auto& w : words) ptrs.push_back(w.c_str());
      hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
      if (a >= 0 && n > 0) H5Awrite(a, type, ptrs.data());
      if (a >= 0) H5Aclose(a);
    } else {
      const std::size_t len = 1 + b.u8() % 4;
      H5Tset_size(type, len);
      std::string buf(len * n, '\0');
      for (hsize_t i = 0; i < n; ++i) std::memcpy(&buf[i * len], words[i].data(), std::min(len, words[i].size()));
      hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
      if (a >= 0 && n > 0) H5Awrite(a, type, buf.data());
      if (a >= 0) H5Aclose(a);
    }
    H5Tclose(type);
  } else {
    std::vector<double> values(n);
    for (auto& v : values) v = b.number();
    hid_t a = H5Acreate2(obj, name, kind == 3 ? H5T_NATIVE_INT : H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0 && n > 0) H5Awrite(a, H5T_NATIVE_DOUBLE, values.data());
    if (a >= 0) H5Aclose(a);
  }
  H5Sclose(space);
}

void mutate_hdf5(const std::string& path, Bytes& b) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (file < 0) return;
  for (int op = 0; op < 8 && !b.done(); ++op) {
    const auto code = b.u8() % 6;
    const char* name = kDatasets[b.u8() % 6];
    switch (code) {
      case 0: make_dataset(file, name, b, std::strcmp(name, "tensor") == 0 || std::strcmp(name, "params") == 0); break;
      case 1: remove_link(file, name); break;
      case 2: {
        remove_link(file, name);
        hid_t g = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g >= 0) H5Gclose(g);
        break;
      }
      case 3: make_attribute(file, kRootAttributes[b.u8() % 4], b); break;
      case 4:
        if (H5Lexists(file, "params", H5P_DEFAULT) > 0) {
          hid_t obj = H5Oopen(file, "params", H5P_DEFAULT);
          if (obj >= 0) make_attribute(obj, "param_names", b), H5Oclose(obj);
        }
        break;
      default: make_dataset(file, name, b, false); break;
    }
  }
  H5Fclose(file);
}

std::vector<std::string> fuzz_hdf5_dataset(const std::uint8_t* data, std::size_t size) {
  Messages out;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Bytes b{data, size};
  const auto& bases = hdf5_bases();
  const auto& base = bases[b.u8() % bases.size()];
  const auto path = scratch() + "/data.h5";
  fs::copy_file(base, path, fs::copy_options::overwrite_existing);
  mutate_hdf5(path, b);
  out.attempt([&] {
    io::DatasetReader reader(path);
    const auto& L = reader.layout();
    check(L.grid.dim >= 1 && L.grid.dim <= 3 && L.num_samples >= 0 && !L.channels.empty(),
          "DatasetReader accepted an impossible layout");
    std::size_t points = 1;
    for (int a = 0; a < L.grid.dim; ++a) points *= static_cast<std::size_t>(L.grid.shape[static_cast<std::size_t>(a)]);
    const auto frame = points * L.channels.size();
    if (L.num_samples == 0 || L.num_times() == 0 || frame > (1u << 20)) return;
    check(reader.read_frame(0, 0).size() == frame, "read_frame's size disagrees with the layout");
    if (frame * static_cast<std::size_t>(L.num_times()) <= (1u << 20))
      check(reader.read_sample(L.num_samples - 1).size() == frame * static_cast<std::size_t>(L.num_times()),
            "read_sample's size disagrees with the layout");
    check(reader.params(0).size() == L.param_names.size(), "params() disagrees with param_names");
    reader.read_block(0, 0, Box::whole(L.grid));
  });
  // The trainer's and evaluate's view of the same file.
  out.attempt([&] {
    training::TrajectoryStore store(path, std::size_t(64) << 20);
    const auto s = store.shape();
    std::int64_t frame = s.channels * s.num_times;
    for (auto n : s.spatial) frame *= n;
    if (store.size() > 0 && frame <= (1 << 20)) {
      const auto t = store.get(store.size() - 1);
      check(t.frames.defined() && t.frames.numel() == frame, "TrajectoryStore::get disagrees with shape()");
    }
  });
  return out.list;
}

using Target = std::function<std::vector<std::string>(const std::uint8_t*, std::size_t)>;

const std::map<std::string, Target>& targets() {
  static const std::map<std::string, Target> t = {
      {"config", fuzz_config},
      {"safetensors", fuzz_safetensors},
      {"matrix_market", [](const std::uint8_t* d, std::size_t n) { return fuzz_matrix("matrix.mtx", d, n); }},
      {"petsc_binary", [](const std::uint8_t* d, std::size_t n) { return fuzz_matrix("matrix.bin", d, n); }},
      {"npy", fuzz_npy},
      {"protocol", fuzz_protocol},
      {"resume_state", fuzz_resume_state},
      {"resume_buffer", fuzz_resume_buffer},
      {"hdf5_dataset", fuzz_hdf5_dataset},
  };
  return t;
}

}  // namespace

const std::vector<std::string>& target_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, f] : targets()) v.push_back(name);
    return v;
  }();
  return names;
}

void initialize(int* argc, char*** argv) {
  // libFuzzer's own flags are not PETSc options. PETSc's signal handler would turn a crash
  // into MPI_Abort before libFuzzer saves the input.
  static Runtime runtime(argc, argv, MPI_COMM_WORLD, {"-no_signal_handler"});
  // PETSc's tracebacks for every rejected matrix would bury the fuzzer's output; the
  // message still reaches the Error through PetscErrorMessage.
  PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
}

std::vector<std::string> run_target(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const auto it = targets().find(name);
  if (it == targets().end()) throw std::invalid_argument("fuzz: no target '" + name + "'");
  return it->second(data, size);
}

}  // namespace pdestream::fuzz
