#include "online_training/protocol.hpp"

#include <cmath>
#include <limits>
#include <cstring>

#include "core/error.hpp"

namespace pdestream::online_training::protocol {

namespace {

// Little byte writer/reader for the variable-length messages (all ranks share one ABI:
// the job is one binary).
struct Writer {
  std::vector<char> bytes;
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<std::int64_t>(s.size()));
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
};

struct Reader {
  const std::vector<char>& bytes;
  std::size_t at = 0;
  const char* what;
  template <class T>
  T get() {
    PDS_CHECK(at + sizeof(T) <= bytes.size(), what << " message truncated: " << bytes.size() << " bytes");
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof(T));
    at += sizeof(T);
    return v;
  }
  std::string get_string() {
    const auto n = get<std::int64_t>();
    PDS_CHECK(n >= 0 && at + static_cast<std::size_t>(n) <= bytes.size(), what << " message truncated");
    std::string s(bytes.data() + at, bytes.data() + at + n);
    at += static_cast<std::size_t>(n);
    return s;
  }
};

}  // namespace

std::vector<double> WorkItem::encode() const {
  std::vector<double> b = {double(sim_id), double(sample), double(attempt), double(trainer)};
  b.insert(b.end(), params.begin(), params.end());
  return b;
}

WorkItem WorkItem::decode(const std::vector<double>& b) {
  PDS_CHECK(b.size() >= 4, "WORK message truncated: " << b.size() << " values, expected at least 4");
  // The ids travel as doubles; each must be a whole number that fits its type.
  for (int i = 0; i < 4; ++i)
    PDS_CHECK(std::isfinite(b[i]) && b[i] == std::floor(b[i]) && std::abs(b[i]) <= 9007199254740992.0 &&
                  (i != 3 || (b[i] >= 0 && b[i] <= std::numeric_limits<int>::max())),
              "WORK message corrupt: field " << i << " is " << b[i] << ", expected a whole number");
  WorkItem w;
  w.sim_id = static_cast<std::int64_t>(b[0]);
  w.sample = static_cast<std::int64_t>(b[1]);
  w.attempt = static_cast<std::int64_t>(b[2]);
  w.trainer = static_cast<int>(b[3]);
  w.params.assign(b.begin() + 4, b.end());
  return w;
}

std::uint64_t fnv1a(const void* data, std::size_t bytes) {
  // 8 bytes at a time: a checksum for transport errors, not a cryptographic hash, and it
  // must not cost the trainer more than the copy it guards.
  std::uint64_t h = 1469598103934665603ull;
  const auto* p = static_cast<const unsigned char*>(data);
  std::size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 1099511628211ull;
  }
  for (; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

std::vector<char> pack_data(const DataHeader& header, const std::vector<double>& params, const Field& block) {
  DataHeader h = header;
  const Box& b = block.box();
  for (int a = 0; a < 3; ++a) {
    h.lo[a] = b.lo[a];
    h.hi[a] = b.hi[a];
  }
  h.channels = block.num_channels();
  h.count = static_cast<std::int64_t>(block.size());
  h.num_params = static_cast<std::int64_t>(params.size());
  h.checksum = fnv1a(block.data().data(), block.size() * sizeof(double));
  std::vector<char> out(sizeof(DataHeader) + (params.size() + block.size()) * sizeof(double));
  std::memcpy(out.data(), &h, sizeof(DataHeader));
  std::memcpy(out.data() + sizeof(DataHeader), params.data(), params.size() * sizeof(double));
  std::memcpy(out.data() + sizeof(DataHeader) + params.size() * sizeof(double), block.data().data(),
              block.size() * sizeof(double));
  return out;
}

Box DataMessage::box() const {
  Box b;
  for (int a = 0; a < 3; ++a) {
    b.lo[a] = static_cast<int>(header.lo[a]);
    b.hi[a] = static_cast<int>(header.hi[a]);
  }
  return b;
}

DataMessage unpack_data(const std::vector<char>& buffer) {
  PDS_CHECK(buffer.size() >= sizeof(DataHeader),
            "DATA message truncated: " << buffer.size() << " bytes, expected at least " << sizeof(DataHeader));
  DataMessage m;
  std::memcpy(&m.header, buffer.data(), sizeof(DataHeader));
  const auto& h = m.header;
  // Every size is bounded by the bytes received before any arithmetic, so a corrupt header
  // cannot overflow its way to a plausible total.
  const auto room = static_cast<std::int64_t>((buffer.size() - sizeof(DataHeader)) / sizeof(double));
  PDS_CHECK(h.num_params >= 0 && h.count >= 0 && h.channels >= 1 && h.num_params <= room && h.count <= room,
            "DATA message has a corrupt header: " << h.num_params << " parameters, " << h.count << " values and "
                                                  << h.channels << " channels in " << buffer.size() << " bytes");
  const std::size_t expected = sizeof(DataHeader) + static_cast<std::size_t>(h.num_params + h.count) * sizeof(double);
  PDS_CHECK(buffer.size() == expected, "DATA message of sim " << h.sim_id << " step " << h.step << " has "
                                                              << buffer.size() << " bytes, expected " << expected);
  std::int64_t points = h.channels;
  for (int a = 0; a < 3; ++a) {
    PDS_CHECK(h.lo[a] >= 0 && h.hi[a] > h.lo[a] && h.hi[a] <= std::numeric_limits<int>::max(),
              "DATA message of sim " << h.sim_id << " has an empty or invalid box on axis " << a << ": [" << h.lo[a]
                                     << ", " << h.hi[a] << ")");
    const std::int64_t extent = h.hi[a] - h.lo[a];
    PDS_CHECK(extent <= h.count / points, "DATA message of sim " << h.sim_id << " step " << h.step
                                                                 << ": its box holds more values than the payload's "
                                                                 << h.count);
    points *= extent;
  }
  PDS_CHECK(points == h.count, "DATA message of sim " << h.sim_id << " step " << h.step << ": box x channels = "
                                                      << points << " values, payload has " << h.count);
  const auto* params = reinterpret_cast<const double*>(buffer.data() + sizeof(DataHeader));
  m.params.assign(params, params + h.num_params);
  m.payload = params + h.num_params;
  PDS_CHECK(fnv1a(m.payload, static_cast<std::size_t>(h.count) * sizeof(double)) == h.checksum,
            "DATA message of sim " << h.sim_id << " step " << h.step << " fails its checksum");
  return m;
}

std::vector<char> EndReport::encode() const {
  Writer w;
  w.put(sim_id);
  w.put(blocks);
  w.put(group_size);
  w.put(failed);
  w.put(credit_wait);
  w.put(solve_seconds);
  w.put_string(reason);
  return w.bytes;
}

EndReport EndReport::decode(const std::vector<char>& buffer) {
  Reader r{buffer, 0, "END"};
  EndReport e;
  e.sim_id = r.get<std::int64_t>();
  e.blocks = r.get<std::int64_t>();
  e.group_size = r.get<std::int64_t>();
  e.failed = r.get<std::int64_t>();
  e.credit_wait = r.get<double>();
  e.solve_seconds = r.get<double>();
  e.reason = r.get_string();
  return e;
}

std::vector<char> Result::encode() const {
  Writer w;
  w.put(sim_id);
  w.put(sample);
  w.put(failed);
  w.put(examples);
  w.put_string(reason);
  return w.bytes;
}

Result Result::decode(const std::vector<char>& buffer) {
  Reader r{buffer, 0, "RESULT"};
  Result x;
  x.sim_id = r.get<std::int64_t>();
  x.sample = r.get<std::int64_t>();
  x.failed = r.get<std::int64_t>();
  x.examples = r.get<std::int64_t>();
  x.reason = r.get_string();
  return x;
}

}  // namespace pdestream::online_training::protocol
