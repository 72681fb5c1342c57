#pragma once
// A VM's serial console (lab/kind_vm.cc): QEMU serves it as a unix stream socket (a `socket`
// chardev, one client at a time) and appends everything the guest prints to a log file.
//
// console_exec runs a shell command through it, for guests with a shell on the console and no
// guest agent: it sends
//     echo __VNET_<id>_""B; ( COMMAND ); echo __VNET_<id>_""E $?
// and reads until "__VNET_<id>_E <status>". The quotes keep the terminal's echo of the line from
// matching the markers; what the command printed (stdout and stderr, merged by the terminal, with
// CR LF turned into LF) lies between the B line and the E marker. Before that it sends a newline:
// a console that answers with a login prompt ("… login:") is logged in with the credentials in
// SOCKET.login ("USER\nPASSWORD\n", written at boot from the vm's `login` and `password` keys);
// the session then stays logged in for the next commands.

#include <string>

#include "base/clock.hh"
#include "base/result.hh"
#include "lab/netns.hh"

namespace vnet::lab {

// OK when the log at `path` shows `text` after byte `from`; else EAGAIN naming the file and its
// last line (a readiness check polls it).
Status console_shows(const std::string& path, size_t from, const std::string& text);

// Runs `command` in the shell on the console at `socket` (see above). out = the output (at most
// `limit` bytes kept), err empty, status = the shell's $?. At the deadline it sends Ctrl-C and
// returns timed_out. Errors: the socket cannot be reached, or the console closed.
Result<CapturedRun> console_exec(const std::string& socket, const std::string& command,
                                 Duration timeout, size_t limit);

// Runs `command` in the VM whose files are FILES.console, FILES.qmp and FILES.qga (the state
// directory's path and the node's name, lab/kind_vm.cc): through the QEMU guest agent
// (lab/qga.hh: stdout and stderr apart) when the guest has opened the agent's virtio-serial
// port (QMP query-chardev: the `qga` chardev's frontend-open) and the agent answers a sync
// within kAgentSync; otherwise through the serial console as console_exec. The result's `via`
// says which ("guest agent" or "serial console").
constexpr std::chrono::milliseconds kAgentSync{2000};
Result<CapturedRun> vm_exec(const std::string& files, const std::string& command, Duration timeout,
                            size_t limit);

// Attaches the terminal (stdin/stdout, raw mode while attached) to the console at `socket` until
// the user types Ctrl-] (0x1d) or the guest's QEMU closes it.
Status console_attach(const std::string& socket);

}  // namespace vnet::lab
