// Node kind "vm": a QEMU guest (docs/vm.md). It boots a kernel + initrd + command line, an ISO
// (`cdrom`) or a disk image (`disk`: qcow2 or raw, run on a throwaway qcow2 overlay in the lab's
// state directory unless `persistent`). Each NIC is a `-netdev stream` client of a unix socket
// the lab's switch listens on for that port (io/qemu.cc QemuStreamListener), so the port is
// access or trunk like any link.
//
// QEMU runs inside a network namespace "<lab>-<node>" of its own that holds nothing else: `kill`
// and `down` (also after a crash of `up`) find it there as they find a namespace node's
// processes. Files in the state directory: NODE.console (the serial console, a unix socket
// chardev: `vnet lab console`, exec steps), NODE.console.log (everything the console printed,
// appended across boots), NODE.qmp (the QMP socket), NODE.qga (the guest agent's virtio-serial
// channel: exec when the guest runs qemu-ga, lab/qga.hh), NODE.qemu.log (QEMU's own stderr),
// NODE-IF.sock (the switch's listening socket for NIC IF) and NODE.overlay.qcow2.
//
// Power: `kill` is a power cut (SIGKILL to QEMU, reaped); `stop` presses the ACPI power button
// (QMP system_powerdown) and waits up to `stop_timeout` for the guest to power off, then cuts the
// power; `start` boots QEMU again. Either way the switch ports lose their client (the port's
// backend goes) and get it back when the guest boots.
//
// Acceleration: `accel: tcg` or `kvm`, or `auto` (default): KVM when /dev/kvm exists and a probe
// creates a VM within 2 s (a KVM that hangs must not hang the lab), else TCG with a warning.

#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/fd.hh"
#include "base/log.hh"
#include "lab/interfaces.hh"
#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/qga_protocol.hh"
#include "lab/qmp.hh"
#include "lab/reader.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/vm_console.hh"

namespace vnet::lab {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kQmpDeadline = milliseconds(2000);
constexpr auto kKvmProbe = milliseconds(2000);

struct VmSpec final : NodeSpec {
  std::string kernel, initrd, cmdline = "console=ttyS0";
  std::string cdrom;
  std::string disk, disk_format;  // qcow2 | raw (from the file's first bytes)
  bool persistent = false;
  int64_t memory = 256;  // MiB
  int64_t cpus = 1;
  std::string accel = "auto";     // auto | kvm | tcg
  std::string firmware = "bios";  // bios | uefi
  std::string ovmf;               // the UEFI firmware file, found when the lab was loaded
  std::string ready;              // console text that means the guest is up; "" = QEMU running
  std::string login, password;    // for a console that asks for a login (exec through it)
  Duration boot_timeout = std::chrono::seconds(120);
  Duration stop_timeout = std::chrono::seconds(30);
  std::map<std::string, std::string> models;  // NIC model by interface name
};

const char* const kOvmfFiles[] = {"/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/ovmf/OVMF.fd",
                                  "/usr/share/qemu/OVMF.fd"};

std::string file_head(const std::string& path, size_t offset, size_t n) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

// KVM works here: /dev/kvm opens and a VM can be created, within kKvmProbe (in a child, so a
// KVM that hangs in an ioctl hangs only the child). Probed once per process.
Status probe_kvm() {
  static std::optional<Status> result;
  if (result) return *result;
  if (::access("/dev/kvm", R_OK | W_OK) != 0) {
    result = make_error(ENODEV, "/dev/kvm is missing or not accessible");
    return *result;
  }
  pid_t pid = ::fork();
  if (pid < 0) return system_error("fork (KVM probe)");
  if (pid == 0) {
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0 || ::ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) ::_exit(1);
    int vm = ::ioctl(fd, KVM_CREATE_VM, 0);
    ::_exit(vm < 0 ? 2 : 0);
  }
  auto end = SteadyClock::now() + kKvmProbe;
  while (true) {
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) {
      result = WIFEXITED(st) && WEXITSTATUS(st) == 0
                   ? Status{}
                   : make_error(ENODEV, "/dev/kvm refused to create a VM");
      return *result;
    }
    if (SteadyClock::now() > end) {
      ::kill(pid, SIGKILL);
      (void)::waitpid(pid, &st, WNOHANG);  // a child stuck in the kernel is left to init
      result =
          make_error(ETIMEDOUT, "creating a KVM VM did not finish within {} ms", kKvmProbe.count());
      return *result;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
}

class VmKind final : public NodeKind {
 public:
  std::string_view name() const override { return "vm"; }
  std::string_view section() const override { return "vms"; }
  std::string_view doc() const override {
    return "A QEMU guest booting a kernel + initrd, an ISO or a disk image; each NIC is a QEMU "
           "stream client of its switch port, its serial console and QMP socket are in the lab's "
           "state directory (docs/vm.md).";
  }
  const KeyTable& keys() const override {
    static const KeyTable t{
        "vm",
        {
            {"name", schema::ref("nodeName"),
             "node name; QEMU runs in a namespace `<lab>-<name>` of its own", true},
            {"interfaces", schema::list(schema::ref("vmInterface")),
             "NICs, in the guest's PCI order (see below)"},
            {"kernel", schema::string("PATH"),
             "a Linux kernel (bzImage) booted directly, relative to the topology file"},
            {"initrd", schema::string("PATH"), "its initial ramdisk (needs kernel)"},
            {"cmdline", schema::string(),
             "its command line (needs kernel; default `console=ttyS0`)"},
            {"cdrom", schema::string("PATH"), "an ISO 9660 image booted as a CD-ROM"},
            {"disk", schema::string("PATH"),
             "a qcow2 or raw disk image (virtio), booted when there is no kernel or cdrom"},
            {"persistent", schema::boolean(),
             "write to the disk image itself (default false: a qcow2 overlay in the lab's state "
             "directory takes the writes and goes with `down`)"},
            {"memory", schema::integer(16, 65536), "MiB of RAM (default 256)"},
            {"cpus", schema::integer(1, 64), "virtual CPUs (default 1)"},
            {"accel", schema::enumeration({"auto", "kvm", "tcg"}),
             "auto (default): KVM when /dev/kvm works (probed with a deadline), else TCG with a "
             "warning; kvm: fail without it; tcg: always emulate"},
            {"firmware", schema::enumeration({"bios", "uefi"}),
             "bios (default, SeaBIOS) or uefi (Debian's OVMF, package ovmf)"},
            {"ready", schema::string(),
             "text the serial console prints once the guest is up (`login:`); `up` and `start` "
             "wait for it up to boot_timeout. Default: up as soon as QEMU runs"},
            {"login", schema::string("USER"),
             "the user `exec` logs in as when the serial console asks for a login (`login:`)"},
            {"password", schema::string(), "that user's password (needs login)"},
            {"boot_timeout", schema::ref("duration"),
             "how long `up`/`start` wait for `ready` (default 120s)"},
            {"stop_timeout", schema::ref("duration"),
             "how long `stop` waits for the guest to power off after the ACPI power button "
             "before cutting the power (default 30s)"},
        }};
    return t;
  }
  std::vector<const KeyTable*> sub_tables() const override { return {&nic_keys()}; }
  bool has_power() const override { return true; }
  bool runs_commands() const override { return true; }
  std::pair<std::string_view, std::string_view> graph_style() const override {
    return {"box3d", "#e4ecf7"};
  }

  void parse(const YAML::Node& y, Node& n, Reader& r) const override;

  Status create(const Node& n, LabRuntime& rt) const override;
  Result<std::string> attach(const Node& n, const Link& l, LabRuntime& rt) const override;
  Status set_link(const Node& n, const Link& l, bool up, LabRuntime& rt) const override;
  Status start(const Node& n, LabRuntime& rt) const override;
  Status kill(const Node& n, LabRuntime& rt) const override { return power_off(n, rt); }
  Status stop(const Node& n, LabRuntime& rt) const override;
  // Through the guest agent when the guest runs one, else the serial console, where the guest
  // needs a shell (lab/vm_console.hh vm_exec).
  Result<CapturedRun> exec(const Node& n, LabRuntime& rt, const std::string& command,
                           Duration within, size_t limit) const override {
    return vm_exec(file_of(rt, n, ""), command, within, limit);
  }
  bool has_console() const override { return true; }
  Status console_shows(const Node& n, LabRuntime& rt, const std::string& text) const override {
    size_t from = 0;
    std::ifstream boot(file_of(rt, n, ".console.boot"));
    boot >> from;
    return vnet::lab::console_shows(file_of(rt, n, ".console.log"), from, text);
  }
  nlohmann::json status(const Node& n, const Topology&) const override {
    const auto& s = n.as<VmSpec>();
    nlohmann::json j = {{"accel", s.accel}, {"memory", s.memory}, {"cpus", s.cpus}};
    if (!s.kernel.empty()) j["kernel"] = s.kernel;
    if (!s.cdrom.empty()) j["cdrom"] = s.cdrom;
    if (!s.disk.empty()) j["disk"] = s.disk;
    return j;
  }

 private:
  static const KeyTable& nic_keys() {
    static const KeyTable t = [] {
      KeyTable t{"vmInterface", interface_keys().keys};
      t.keys.push_back({"model", schema::string("QEMU NIC device"),
                        "the NIC QEMU emulates (default virtio-net-pci; e1000, rtl8139…)"});
      return t;
    }();
    return t;
  }
  static std::string file_of(const LabRuntime& rt, const Node& n, const std::string& suffix) {
    return rt.state_dir() + "/" + n.name + suffix;
  }
  Status power_off(const Node& n, LabRuntime& rt) const;
  Result<std::string> pick_accel(const Node& n) const;
};

void VmKind::parse(const YAML::Node& y, Node& n, Reader& r) const {
  auto spec = std::make_shared<VmSpec>();
  n.spec = spec;
  n.interfaces = parse_interfaces(y["interfaces"], n.name, r, nic_keys());
  for (auto i : r.list(y["interfaces"], "interfaces")) {
    if (!i.IsMap() || !i["name"]) continue;
    std::string iname = i["name"].Scalar();
    if (iname.find('.') != std::string::npos)
      r.error(i["name"], fmt::format("vm {}: interface {}: a VM's VLAN subinterfaces live in the "
                                     "guest; link NAME as a trunk instead",
                                     n.name, iname));
    if (auto m = i["model"]) {
      auto s = r.str(m, "model");
      if (s && !Reader::valid_name(*s, 64)) {
        r.error(m, fmt::format("vm {}: NIC model '{}': expected a QEMU device name "
                               "(virtio-net-pci, e1000, rtl8139)",
                               n.name, *s));
      } else if (s) {
        spec->models[iname] = *s;
      }
    }
  }
  fs::path dir = fs::path(r.file()).parent_path();
  // A file the node boots from: relative to the topology file, a regular readable file; its
  // absolute path goes to QEMU.
  auto path = [&](const char* key, std::string& out) -> bool {
    auto v = y[key];
    if (!v) return false;
    auto s = r.str(v, key);
    if (!s) return false;
    fs::path p = *s;
    if (p.is_relative()) p = dir / p;
    std::error_code ec;
    p = fs::absolute(p, ec);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(p.c_str(), R_OK) != 0) {
      r.error(v, fmt::format("vm {}: {} {}: {}", n.name, key, p.string(),
                             ::stat(p.c_str(), &st) != 0 ? "no such file"
                             : !S_ISREG(st.st_mode)      ? "not a regular file"
                                                         : "not readable"));
      return false;
    }
    out = p.string();
    return true;
  };
  if (path("kernel", spec->kernel) && file_head(spec->kernel, 0x202, 4) != "HdrS")
    r.error(y["kernel"], fmt::format("vm {}: kernel {} is not a Linux kernel image (no bzImage "
                                     "header)",
                                     n.name, spec->kernel));
  path("initrd", spec->initrd);
  if (path("cdrom", spec->cdrom) && file_head(spec->cdrom, 0x8001, 5) != "CD001")
    r.error(y["cdrom"], fmt::format("vm {}: cdrom {} is not an ISO 9660 image (no CD001 at "
                                    "32769)",
                                    n.name, spec->cdrom));
  if (path("disk", spec->disk)) {
    if (file_head(spec->disk, 0, 4) == "QFI\xfb") {
      spec->disk_format = "qcow2";
    } else if (fs::file_size(spec->disk) % 512 != 0 || fs::file_size(spec->disk) == 0) {
      r.error(y["disk"], fmt::format("vm {}: disk {} is neither qcow2 nor a raw image (a raw "
                                     "image is a non-empty multiple of 512 bytes)",
                                     n.name, spec->disk));
    } else {
      spec->disk_format = "raw";
    }
  }
  if (auto v = y["cmdline"]) spec->cmdline = r.str(v, "cmdline").value_or("");
  for (const char* key : {"initrd", "cmdline"}) {
    if (y[key] && !y["kernel"]) r.error(y[key], fmt::format("vm {}: {} needs kernel", n.name, key));
  }
  if (!y["kernel"] && !y["cdrom"] && !y["disk"])
    r.error(y, fmt::format("vm {}: nothing to boot: expected kernel, cdrom or disk", n.name));
  if (auto v = y["persistent"]) {
    auto s = r.str(v, "persistent");
    if (s && *s != "true" && *s != "false")
      r.error(v, fmt::format("persistent '{}': expected true or false", *s));
    spec->persistent = s == "true";
    if (spec->persistent && !y["disk"]) r.error(v, "persistent needs disk");
  }
  if (auto v = y["memory"]) spec->memory = r.integer(v, "memory (MiB)", 16, 65536).value_or(256);
  if (auto v = y["cpus"]) spec->cpus = r.integer(v, "cpus", 1, 64).value_or(1);
  auto word = [&](const char* key, std::string& out, std::vector<std::string> allowed) {
    auto v = y[key];
    if (!v) return;
    auto s = r.str(v, key);
    if (!s) return;
    if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
      std::string list;
      for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return r.error(v, fmt::format("{} '{}': expected {}", key, *s, list));
    }
    out = *s;
  };
  word("accel", spec->accel, {"auto", "kvm", "tcg"});
  word("firmware", spec->firmware, {"bios", "uefi"});
  if (spec->firmware == "uefi") {
    for (const char* f : kOvmfFiles) {
      if (::access(f, R_OK) == 0) {
        spec->ovmf = f;
        break;
      }
    }
    if (spec->ovmf.empty())
      r.error(y["firmware"], fmt::format("vm {}: firmware uefi needs OVMF ({}): apt-get install "
                                         "ovmf",
                                         n.name, kOvmfFiles[0]));
  }
  if (auto v = y["ready"]) spec->ready = r.str(v, "ready").value_or("");
  if (auto v = y["login"]) spec->login = r.str(v, "login").value_or("");
  if (auto v = y["password"]) {
    spec->password = r.str(v, "password").value_or("");
    if (!y["login"]) r.error(v, fmt::format("vm {}: password needs login", n.name));
  }
  if (spec->login.find_first_of("\n\r") != std::string::npos ||
      spec->password.find_first_of("\n\r") != std::string::npos)
    r.error(y["login"], fmt::format("vm {}: login and password are one line each", n.name));
  using std::chrono::seconds;
  if (auto v = y["boot_timeout"]) {
    spec->boot_timeout =
        r.duration(v, "boot_timeout", seconds(1), seconds(3600), DurationUnit::kSeconds)
            .value_or(spec->boot_timeout);
  }
  if (auto v = y["stop_timeout"]) {
    spec->stop_timeout =
        r.duration(v, "stop_timeout", seconds(0), seconds(3600), DurationUnit::kSeconds)
            .value_or(spec->stop_timeout);
  }
}

Result<std::string> VmKind::pick_accel(const Node& n) const {
  const auto& s = n.as<VmSpec>();
  if (s.accel == "tcg") return std::string("tcg");
  Status kvm = probe_kvm();
  if (kvm) return std::string("kvm");
  if (s.accel == "kvm")
    return make_error(ENODEV, "{}: {}: accel kvm needs a working KVM: {}", n.where.str(), n.name,
                      kvm.error().message);
  if (kvm.error().code != ENODEV || ::access("/dev/kvm", F_OK) == 0)
    log::warn("vm {}: KVM unusable ({}): emulating with TCG (slow)", n.name, kvm.error().message);
  return std::string("tcg");
}

Status VmKind::create(const Node& n, LabRuntime& rt) const {
  if (auto s = rt.create_netns(rt.topo().netns(n.name)); !s) return s;
  const auto& spec = n.as<VmSpec>();
  if (spec.disk.empty() || spec.persistent) return {};
  // The overlay lives as long as the lab: kill/start keeps the guest's disk, as a power cut does.
  std::string overlay = file_of(rt, n, ".overlay.qcow2");
  if (::access(overlay.c_str(), F_OK) == 0) return {};
  auto r = run_captured(
      rt.topo().netns(n.name),
      {"qemu-img", "create", "-q", "-f", "qcow2", "-F", spec.disk_format, "-b", spec.disk, overlay},
      0, std::chrono::seconds(30), 4096);
  if (!r) return make_error(r.error().code, "vm {}: qemu-img: {}", n.name, r.error().message);
  if (r->status != 0)
    return make_error(EIO, "vm {}: qemu-img create {} (backing {}) failed: {}", n.name, overlay,
                      spec.disk, r->err);
  return {};
}

Result<std::string> VmKind::attach(const Node& n, const Link& l, LabRuntime& rt) const {
  std::string sock = file_of(rt, n, "-" + l.a.interface + ".sock");
  if (sock.size() >= sizeof(sockaddr_un::sun_path))
    return make_error(ENAMETOOLONG,
                      "vm {}: socket path {} is longer than {} bytes: use a shorter "
                      "VNET_STATE_DIR or lab name",
                      n.name, sock, sizeof(sockaddr_un::sun_path) - 1);
  return "qemu-stream:" + sock;
}

// A VM's cable: both ends lose their carrier, as when it is pulled. The switch's port goes down
// (its admin state: no frames either way) and the guest's NIC loses its link (QMP set_link on the
// NIC's netdev, which QEMU passes on to the NIC: the guest sees carrier go). Before QEMU runs
// (a VM booting while its switch is off) only the switch's port changes.
Status VmKind::set_link(const Node& n, const Link& l, bool up, LabRuntime& rt) const {
  auto dp = rt.dataplane();
  if (!dp) return dp.error();
  if (auto s = (*dp)->set_link(l.b.node, l.port_b, up); !s) return s;
  std::string qmp = file_of(rt, n, ".qmp");
  if (::access(qmp.c_str(), F_OK) != 0) return {};
  auto links = rt.topo().links_of(n.name);
  auto it = std::find(links.begin(), links.end(), &l);
  if (it == links.end()) return make_error(ENOENT, "vm {}: no such link", n.name);
  std::string netdev = "n" + std::to_string(it - links.begin());  // as start() names them
  if (auto r = qmp_command(qmp, "set_link", kQmpDeadline, {{"name", netdev}, {"up", up}}); !r)
    return make_error(r.error().code, "vm {}: QMP set_link {} {}: {}", n.name, l.a.interface,
                      up ? "up" : "down", r.error().message);
  return {};
}

Status VmKind::start(const Node& n, LabRuntime& rt) const {
  const auto& s = n.as<VmSpec>();
  auto accel = pick_accel(n);
  if (!accel) return accel.error();
  std::string console = file_of(rt, n, ".console"), log = file_of(rt, n, ".console.log");
  std::string qmp = file_of(rt, n, ".qmp"), qga = file_of(rt, n, ".qga");
  ::unlink(console.c_str());
  ::unlink(qmp.c_str());
  ::unlink(qga.c_str());
  std::vector<std::string> argv = {
      "qemu-system-x86_64",
      "-name",
      n.name,
      "-machine",
      "q35,accel=" + *accel,
      "-m",
      std::to_string(s.memory),
      "-smp",
      std::to_string(s.cpus),
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-chardev",
      "socket,id=console,path=" + console + ",server=on,wait=off,logfile=" + log + ",logappend=on",
      "-serial",
      "chardev:console",
      "-qmp",
      "unix:" + qmp + ",server=on,wait=off",
  };
  if (*accel == "kvm") argv.insert(argv.end(), {"-cpu", "host"});
  if (!s.ovmf.empty()) argv.insert(argv.end(), {"-bios", s.ovmf});
  if (!s.kernel.empty()) {
    argv.insert(argv.end(), {"-kernel", s.kernel, "-append", s.cmdline});
    if (!s.initrd.empty()) argv.insert(argv.end(), {"-initrd", s.initrd});
  }
  if (!s.disk.empty()) {
    std::string file = s.persistent ? s.disk : file_of(rt, n, ".overlay.qcow2");
    std::string format = s.persistent ? s.disk_format : "qcow2";
    argv.insert(argv.end(), {"-drive", "file=" + file + ",format=" + format + ",if=virtio"});
  }
  if (!s.cdrom.empty()) {
    argv.insert(argv.end(), {"-drive", "file=" + s.cdrom + ",media=cdrom,readonly=on"});
    if (s.kernel.empty()) argv.insert(argv.end(), {"-boot", "order=d"});
  }
  int i = 0;
  for (const Link* l : rt.topo().links_of(n.name)) {
    std::string id = "n" + std::to_string(i++);
    auto m = n.macs.find(l->a.interface);
    auto model = s.models.find(l->a.interface);
    argv.insert(argv.end(),
                {"-netdev",
                 "stream,id=" + id + ",server=off,addr.type=unix,addr.path=" +
                     file_of(rt, n, "-" + l->a.interface + ".sock"),
                 "-device",
                 (model == s.models.end() ? std::string("virtio-net-pci") : model->second) +
                     ",netdev=" + id +
                     (m == n.macs.end() ? std::string() : ",mac=" + m->second.to_string())});
  }
  // The guest agent's channel (lab/qga.hh), after the NICs so that they keep their PCI slots: a
  // virtio-serial port named as qemu-ga expects, on a socket in the state directory. A guest
  // without an agent leaves the port closed and exec uses the serial console.
  argv.insert(argv.end(),
              {"-chardev", "socket,id=qga,path=" + qga + ",server=on,wait=off", "-device",
               "virtio-serial-pci,id=vser", "-device",
               "virtserialport,bus=vser.0,chardev=qga,name=" + std::string(qga::kPortName)});
  // Where the console log stands now: readiness looks at what this boot prints.
  std::error_code ec;
  auto from = fs::exists(log, ec) ? fs::file_size(log, ec) : 0;
  // For `console` steps run later, also by another `vnet lab test` on the running lab.
  std::ofstream(file_of(rt, n, ".console.boot"), std::ios::trunc) << from << "\n";
  // The console's credentials, for exec through it (lab/vm_console.hh), readable by root only.
  if (!s.login.empty()) {
    std::string f = file_of(rt, n, ".console.login");
    ::unlink(f.c_str());
    UniqueFd fd(::open(f.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    std::string text = s.login + "\n" + s.password + "\n";
    if (!fd.valid() || ::write(fd.get(), text.data(), text.size()) != ssize_t(text.size()))
      return make_error(errno, "vm {}: cannot write {}: {}", n.name, f, std::strerror(errno));
  }
  ServiceSpec svc{std::move(argv), n.name + " qemu", file_of(rt, n, ".qemu.log")};
  svc.ready_within = std::chrono::duration_cast<milliseconds>(s.boot_timeout);
  std::string ready = s.ready;
  svc.ready = [qmp, log, ready, from]() -> Status {
    if (ready.empty()) {
      if (auto r = qmp_command(qmp, "query-status", kQmpDeadline); !r) return r.error();
      return {};
    }
    return vnet::lab::console_shows(log, from, ready);
  };
  return rt.start_service(n, rt.topo().netns(n.name), std::move(svc));
}

Status VmKind::stop(const Node& n, LabRuntime& rt) const {
  if (!rt.powered(n.name)) return make_error(EALREADY, "{} is already off", n.name);
  const auto& s = n.as<VmSpec>();
  std::string ns = rt.topo().netns(n.name);
  // The ACPI power button; a guest without ACPI support ignores it and loses power below.
  if (auto r = qmp_command(file_of(rt, n, ".qmp"), "system_powerdown", kQmpDeadline); r) {
    auto end = SteadyClock::now() + s.stop_timeout;
    while (SteadyClock::now() < end) {
      bool running = false;
      for (pid_t p : netns_pids(ns)) running |= process_running(p);
      if (!running) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  return power_off(n, rt);
}

Status VmKind::power_off(const Node& n, LabRuntime& rt) const {
  if (!rt.powered(n.name)) return make_error(EALREADY, "{} is already off", n.name);
  std::string ns = rt.topo().netns(n.name);
  if (auto s = kill_netns_processes(ns, milliseconds(0)); !s) return s;
  // The switch drops the ports' listeners (and their sockets) now; `start` makes them afresh.
  auto dp = rt.dataplane();
  if (!dp) return dp.error();
  for (const Link* l : rt.topo().links_of(n.name)) {
    if (auto s = (*dp)->detach(l->b.node, l->port_b); !s && s.error().code != ENXIO) return s;
    // `start` plugs every cable back, one a `link … down` step pulled included (as for a
    // namespace node, whose veth is made afresh); a switch that is off keeps its ports down.
    if (rt.powered(l->b.node)) {
      if (auto s = (*dp)->set_link(l->b.node, l->port_b, true); !s) return s;
    }
  }
  for (const char* f : {".console", ".qmp", ".qga"}) ::unlink(file_of(rt, n, f).c_str());
  if (auto s = rt.destroy_netns(ns); !s) return s;
  return rt.set_power(n, false);
}

}  // namespace

std::unique_ptr<NodeKind> make_vm_kind() { return std::make_unique<VmKind>(); }

}  // namespace vnet::lab
