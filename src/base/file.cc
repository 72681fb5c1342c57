#include "base/file.hh"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "base/fd.hh"

namespace vnet {
namespace {

const char* type_name(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

std::string size_text(size_t n) {
  if (n % (1u << 20) == 0) return fmt::format("{} MiB", n >> 20);
  if (n % (1u << 10) == 0) return fmt::format("{} KiB", n >> 10);
  return fmt::format("{} bytes", n);
}

}  // namespace

Result<std::string> read_regular_file(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) {
    int e = errno;
    return make_error(e, "{}: cannot open: {}", path, std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return system_error(path + ": fstat");
  if (!S_ISREG(st.st_mode))
    return make_error(EINVAL, "{}: not a regular file ({})", path, type_name(st.st_mode));
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return make_error(EFBIG, "{}: larger than {}", path, size_text(max_bytes));
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  // The file may grow while we read: never past the limit.
  while (true) {
    if (got == out.size()) {
      if (out.size() >= max_bytes + 1) break;
      out.resize(std::min(max_bytes + 1, out.size() + 4096));
    }
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error(path + ": read");
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) return make_error(EFBIG, "{}: larger than {}", path, size_text(max_bytes));
  out.resize(got);
  return out;
}

}  // namespace vnet
